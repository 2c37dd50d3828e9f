export { DockerCliEngine } from './cli-engine.js';
export {
  type DockerCliEngineOptions,
  type DockerEngineConfig,
  type DockerEngineOptions,
  dockerEngineConfigSchema,
  ENGINE_NAME,
} from './config.js';
export { DEFAULT_SOCKET, type DockerConnection, dockerConnection } from './connection.js';
export { type DaemonMessage, readDaemonStream } from './daemon-stream.js';
export { DockerEngine } from './engine.js';
export { engine } from './flavor.js';
export { type DaemonRegistryConfig, daemonTreatsAsInsecure } from './insecure-registries.js';
export { toBuildQuery, toDockerCliFlags } from './options.js';
