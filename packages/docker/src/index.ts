export { toBuildQuery } from './build-options.js';
export { DockerCliEngine, type DockerCliEngineOptions, toDockerCliFlags } from './cli-engine.js';
export { DEFAULT_SOCKET, type DockerConnection, dockerConnection } from './connection.js';
export { type DaemonMessage, readDaemonStream } from './daemon-stream.js';
export { DockerEngine, type DockerEngineOptions, ENGINE_NAME } from './engine.js';
export { engine } from './flavor.js';
export { type DaemonRegistryConfig, daemonTreatsAsInsecure } from './insecure-registries.js';
