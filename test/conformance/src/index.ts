// @zenbuild/conformance: the suites every container engine and image builder runs, split by feature,
// and the tools their cases use (also used by other cross-package tests).
export {
  type BuilderCapabilities,
  type BuilderFeature,
  type BuilderHarness,
  imageBuilderConformance,
} from './builder/suite.js';
export { cancelledAfter, stalledStream } from './cancel.js';
export { credentialHelperConfig } from './credential-helper.js';
export {
  containerEngineConformance,
  type EngineCapabilities,
  type EngineFeature,
  type EngineHarness,
} from './engine/suite.js';
export { buildRequest, failure, freePort, runContext, stalledContext, unique } from './helpers.js';
export type { TestRegistries } from './registries.js';
export { sampleRecord } from './store/records.js';
export { buildStoreConformance, type StoreCapabilities, type StoreHarness } from './store/suite.js';
export { startTokenProxy } from './token-proxy.js';
