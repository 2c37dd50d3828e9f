import type { ContainerEngineFlavor } from '@zenbuild/core/backend';
import { DockerCliEngine } from './cli-engine.js';
import { type DockerEngineOptions, dockerEngineConfigSchema, ENGINE_NAME } from './config.js';
import { DockerEngine } from './engine.js';

/**
 * What `@zenbuild/docker` exports for core's engine selection: the Engine API, or the docker CLI with
 * ZenML's `use_subprocess_call`.
 */
export const engine: ContainerEngineFlavor<DockerEngineOptions> = {
  name: ENGINE_NAME,
  configSchema: dockerEngineConfigSchema,
  create: (options) =>
    options?.subprocess
      ? new DockerCliEngine({
          ...(options.env ? { env: options.env } : {}),
          ...(options.binary ? { binary: options.binary } : {}),
        })
      : new DockerEngine(options),
};
