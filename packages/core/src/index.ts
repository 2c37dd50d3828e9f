// @zenbuild/core: what a program that builds pipelines calls. Load and validate a pipeline config and a
// stack, plan, build, read the build store, and the errors, events and types these speak of. A backend
// package imports `@zenbuild/core/backend` instead (src/backend.ts).

// Where the steps' code comes from: a code repository's commit, or an archive in the artifact store.
export { CODE_UPLOADS, codeArchiveFiles, makeCodeArchive, uploadCodeArchive } from './code/archive.js';
export { type CheckoutState, describeChanges, inspectCheckout } from './code/checkout.js';
export { type CodeDelivery, codeDelivery, describeDelivery } from './code/delivery.js';
export { matchesRemote, remoteIdentity } from './code/repositories.js';
// Pipeline configs and stacks.
export { parseYaml } from './config/yaml-file.js';
// Build contexts, as `zenbuild context` shows them.
export { archiveContext } from './context/archive.js';
export { DigestCache } from './context/digest-cache.js';
export { hashContext } from './context/hash.js';
export { type ContextEntry, type WalkedContext, walkContext } from './context/walk.js';
export type {
  ArtifactStore,
  BuildEvent,
  BuildQuery,
  BuildRecordImage,
  BuildStore,
  ContainerEngineName,
  ContainerRegistry,
  ImageBuilderComponent,
  ObjectStorage,
  OtherComponent,
  PipelineBuildRecord,
  RecordOrigin,
  Secrets,
  Stack,
  StackProblem,
  StoreProblem,
} from './contracts.js';
// The local engine (ZENML_CONTAINER_ENGINE).
export { selectEngine, selectEngineOnce } from './engine/select.js';
// Errors: every failure zenbuild expects is a ZenbuildError with a code and an exit code.
export {
  buildCancelled,
  type ErrorCode,
  EXIT_CODES,
  invalidInput,
  isZenbuildError,
  ZenbuildError,
} from './errors.js';
export { ensureZenbuildHome, zenbuildHome } from './home/home.js';
// Plan and build.
export {
  type BuildPipelineOptions,
  buildPipeline,
  type PipelineBuildResult,
} from './pipeline/build-pipeline.js';
export {
  type PipelineEvent,
  type PipelineEventSink,
  type PlannedPipeline,
  type PlanPipelineOptions,
  planPipeline,
} from './pipeline/plan-pipeline.js';
export {
  loadPipelineConfig,
  type PipelineConfig,
  pipelineConfigFromData,
} from './pipeline-config/pipeline-config.js';
export { describePlan } from './plan/describe.js';
export { type BuildPlan, type CodeSource, planBuilds } from './plan/plan.js';
// The steps buildPipeline takes to decide reuse, for a program that decides it on its own.
export { type PlanChecksums, planChecksums, resolveParentDigests } from './reuse/checksums.js';
export { findReusableBuild, type ReuseDecision, verifyCustomBuild } from './reuse/decision.js';
export {
  contextHashesOf,
  homeExclusion,
  type PreparedContext,
  prepareContexts,
} from './reuse/prepare-contexts.js';
export { SecretSet } from './secrets.js';
export {
  DOCKER_SETTINGS_DEFAULTS,
  DOCKER_SETTINGS_FIELDS,
  type DockerSettings,
  dockerSettingsSchema,
} from './settings/docker-settings.js';
export {
  defaultStack,
  describeStack,
  type LoadStackOptions,
  loadStack,
  stackFromData,
} from './stack/stack.js';
export { validateImageBuilderFlavor } from './stack/validate.js';
// The build store.
export { LocalBuildStore, newBuildId } from './store/build-store.js';
export { directoryObjects } from './store/directory-objects.js';
export { ObjectBuildStore } from './store/object-build-store.js';
export {
  type OpenedBuildStore,
  openBuildStore,
  STORE_ENV_VAR,
  type StoreChoice,
} from './store/open-store.js';
export { createBuildRecord, ZENBUILD_VERSION } from './store/record.js';
export { describeStoreProblem, RECORD_SCHEMA_VERSION } from './store/record-schema.js';
// For an exit handler: removes the private temp dirs (credential files) this process made.
export { removePrivateTempDirsSync } from './util/private-temp.js';
export type { Warning } from './warnings.js';
