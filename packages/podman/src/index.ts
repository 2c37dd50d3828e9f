export { ENGINE_NAME, engine, PodmanEngine, type PodmanEngineOptions, toBuildFlags } from './engine.js';
export { type PodmanRegistryEntry, podmanTreatsAsInsecure } from './insecure-registries.js';
export { registriesConfWithInsecure } from './registries-conf.js';
export {
  type CheckedOutContext,
  DEFAULT_KEPT_CONTEXTS,
  KEEP_CONTEXTS_VARIABLE,
  UnpackedContexts,
} from './unpacked-contexts.js';
