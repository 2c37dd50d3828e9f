import type { ContainerEngineFlavor } from '@zenbuild/core/backend';
import { ENGINE_NAME, type PodmanEngineOptions, podmanEngineConfigSchema } from './config.js';
import { PodmanEngine } from './engine.js';

/** What `@zenbuild/podman` exports for core's engine selection. */
export const engine: ContainerEngineFlavor<PodmanEngineOptions> = {
  name: ENGINE_NAME,
  configSchema: podmanEngineConfigSchema,
  create: (options) => new PodmanEngine(options),
};
