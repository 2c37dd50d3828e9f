// @zenbuild/core/backend: the kit a backend package builds on. The contracts it implements, the build
// context it consumes, registry names and credentials, the local image builder an engine plugs into,
// the remote-build kit for cloud builders, and the helpers for engine output and processes.

export { LocalImageBuilder } from './builders/local.js';
export {
  imageTarget,
  type RemoteBuildSecret,
  remoteBuildSecrets,
  remoteDockerBuildFlags,
  remoteSecretFlags,
  reportedUpload,
  requirePushRegistry,
} from './builders/remote.js';
export {
  type RemoteBuildOptions,
  type RemoteBuildOutcome,
  type RemoteBuildService,
  runRemoteBuild,
  type StartedRemoteBuild,
} from './builders/remote-build.js';
export { archiveContext } from './context/archive.js';
export { ChunkPool } from './context/chunk-pool.js';
export { hashContext } from './context/hash.js';
export { buildContextSource } from './context/source.js';
export { walkContext } from './context/walk.js';
export type {
  ArtifactStoreFlavor,
  Availability,
  BuildContextSource,
  BuildEvent,
  BuildOptions,
  BuildRequest,
  BuildSecretSource,
  BuiltImage,
  ByteProgressListener,
  ChunkLender,
  ContainerEngine,
  ContainerEngineFlavor,
  ContainerEngineName,
  ContainerRegistry,
  ContextFile,
  ImageBuilder,
  ImageBuilderFlavor,
  ObjectStorage,
  RunContext,
  RunMountsRequest,
  Secrets,
  Stack,
  StackProblem,
  WriteContextOptions,
} from './contracts.js';
export { ByteProgress, byteProgressEvents } from './engine/byte-progress.js';
export {
  buildArgsThroughEnv,
  checkSecretSources,
  cloudSecretStore,
  hasBuildSecrets,
  secretFlags,
  secretValue,
  sharedBuildFlags,
} from './engine/cli-flags.js';
export { forwardOutputLines, LogTail, lastLines, refusedByRegistry, TAIL_LINES } from './engine/output.js';
export { stopProcessTree, superviseEngineProcess } from './engine/process-tree.js';
export { buildCancelled, invalidInput, isZenbuildError, notAvailable, ZenbuildError } from './errors.js';
export { zenbuildHome } from './home/home.js';
export { parseImageReference, repositoryOf } from './naming/reference.js';
export { imagesPulledBy } from './plan/pulled-images.js';
export { locateImage, RegistryClient } from './registry/client.js';
export {
  DOCKER_HUB_AUTH_KEY,
  dockerConfigDir,
  isDockerHub,
  type RegistryCredentials,
  readDockerConfig,
} from './registry/credentials.js';
export { credentialsForImage, pulledRegistryHosts, registryHost } from './registry/image-credentials.js';
export { hostWithoutPort, isPlainHttpRegistry } from './registry/plain-http.js';
export { SecretSet } from './secrets.js';
export { buildOptionYamlName } from './settings/build-options.js';
export { stackFromData } from './stack/stack.js';
export { namingArtifactStore } from './store/artifact-store-error.js';
export { indexKey, ObjectBuildStore, recordKey } from './store/object-build-store.js';
export { type HttpRequestOptions, type HttpResponse, httpRequest } from './util/http-request.js';
export { isRecord } from './util/is-record.js';
export { lazyImport } from './util/lazy-import.js';
export { isRunning, makePrivateTempDir, removePrivateTempDir } from './util/private-temp.js';
// The kit's zod (see util/zod.ts for what it holds and why not all of zod).
export * as z from './util/zod.js';
