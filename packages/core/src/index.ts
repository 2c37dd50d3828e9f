export * from './build/execute.js';
export * from './builders/local.js';
export * from './builders/remote.js';
export * from './builders/resolve.js';
export * from './catalog/integrations.js';
export * from './config/path.js';
export * from './config/yaml-file.js';
export * from './context/archive.js';
export * from './context/chunk-pool.js';
export * from './context/digest-cache.js';
export * from './context/hash.js';
export * from './context/source.js';
export * from './context/walk.js';
export * from './context/write-to.js';
export * from './contracts.js';
export * from './engine/byte-progress.js';
export * from './engine/cli-flags.js';
export * from './engine/output.js';
export { stopProcessTree, superviseEngineProcess } from './engine/process-tree.js';
export * from './engine/select.js';
export * from './errors.js';
export * from './flavors/load.js';
export * from './flavors/table.js';
export * from './home/atomic-write.js';
export * from './home/home.js';
export * from './naming/naming.js';
export * from './naming/reference.js';
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
export * from './pipeline-config/pipeline-config.js';
export * from './plan/checksum.js';
export * from './plan/describe.js';
export * from './plan/dockerfile.js';
export * from './plan/plan.js';
export * from './plan/pulled-images.js';
export * from './plan/requirements.js';
export * from './registry/certs-d.js';
export * from './registry/client.js';
export * from './registry/credentials.js';
export * from './registry/image-credentials.js';
export * from './registry/plain-http.js';
export * from './registry/pulled-as.js';
export * from './reuse/checksums.js';
export * from './reuse/decision.js';
export * from './reuse/prepare-contexts.js';
export * from './secrets.js';
export * from './settings/build-options.js';
export * from './settings/docker-settings.js';
export * from './settings/resolve.js';
export * from './settings/substitute.js';
export * from './stack/components.js';
export * from './stack/stack.js';
export * from './stack/validate.js';
export * from './store/build-store.js';
export * from './store/record.js';
export * from './util/http-request.js';
export { isRecord } from './util/is-record.js';
export { lazyImport } from './util/lazy-import.js';
export {
  isRunning,
  makePrivateTempDir,
  removePrivateTempDir,
  removePrivateTempDirsSync,
  sweepPrivateTempDirs,
} from './util/private-temp.js';
// The adapter kit's zod (see util/zod.ts for what it holds and why not all of zod).
export * as z from './util/zod.js';
export type * from './warnings.js';
