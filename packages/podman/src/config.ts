import { z } from '@zenbuild/core/backend';
import type { UnpackedContexts } from './unpacked-contexts.js';

export const ENGINE_NAME = 'podman';

/** The podman engine's config as core's engine selection passes it from the stack. */
export const podmanEngineConfigSchema = z.strictObject({
  /** ZenML's `use_subprocess_call`: podman is always driven through its CLI, so either value does. */
  subprocess: z.boolean().optional(),
  /** The podman binary (default: `podman` on PATH). */
  binary: z.string().min(1).optional(),
});

export type PodmanEngineConfig = z.infer<typeof podmanEngineConfigSchema>;

export interface PodmanEngineOptions extends PodmanEngineConfig {
  /** The environment podman runs with (REGISTRY_AUTH_FILE, CONTAINERS_*); default: this process's. */
  env?: NodeJS.ProcessEnv;
  /** Where unpacked contexts are kept between builds (default: under zenbuild's home, see the docs). */
  contexts?: UnpackedContexts;
}
