export { ENGINE_NAME, engine, PodmanEngine, type PodmanEngineOptions, toBuildFlags } from './engine.js';
