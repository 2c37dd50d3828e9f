export {
  ENGINE_NAME,
  type PodmanEngineConfig,
  type PodmanEngineOptions,
  podmanEngineConfigSchema,
} from './config.js';
export { PodmanEngine } from './engine.js';
export { engine } from './flavor.js';
export { type PodmanRegistryEntry, podmanTreatsAsInsecure } from './insecure-registries.js';
export { toBuildFlags } from './options.js';
export { registriesConfWithInsecure } from './registries-conf.js';
export {
  type CheckedOutContext,
  DEFAULT_KEPT_CONTEXTS,
  KEEP_CONTEXTS_VARIABLE,
  UnpackedContexts,
} from './unpacked-contexts.js';
