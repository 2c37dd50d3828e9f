import { z } from '@zenbuild/core/backend';

export const ENGINE_NAME = 'docker';

/**
 * The docker engine's config as core's engine selection passes it from the stack. The daemon's address
 * comes from the environment (DOCKER_HOST, the docker context: connection.ts).
 */
export const dockerEngineConfigSchema = z.strictObject({
  /** ZenML's `use_subprocess_call`: drive the `docker` CLI instead of the Engine API. */
  subprocess: z.boolean().optional(),
  /** The docker binary for the CLI mode (default: `docker` on PATH). */
  binary: z.string().min(1).optional(),
});

export type DockerEngineConfig = z.infer<typeof dockerEngineConfigSchema>;

export interface DockerEngineOptions extends DockerEngineConfig {
  /** The environment the engine reads (DOCKER_HOST, DOCKER_CONFIG); default: this process's. */
  env?: NodeJS.ProcessEnv;
}

export type DockerCliEngineOptions = Omit<DockerEngineOptions, 'subprocess'>;
