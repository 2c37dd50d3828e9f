import type { ContainerEngine, ImageBuilder } from '../contracts.js';
import { selectEngineOnce } from '../engine/select.js';
import { loadImageBuilderFlavor, type ModuleImporter } from '../flavors/load.js';
import type { Stack } from '../stack/stack.js';
import { LOCAL_FLAVOR, LocalImageBuilder } from './local.js';

export interface ImageBuilderOptions {
  env?: NodeJS.ProcessEnv;
  importer?: ModuleImporter;
  /** For the local builder: each engine as soon as it is created (see SelectEngineOptions). */
  onEngine?: (engine: ContainerEngine) => void;
}

/**
 * The image builder a stack names: the local builder on the selected engine, or a remote flavor from
 * its package (which validates its own config). Missing packages and engines are NOT_AVAILABLE errors.
 */
export async function imageBuilderFor(
  stack: Stack,
  options: ImageBuilderOptions = {},
): Promise<ImageBuilder> {
  if (stack.imageBuilder.flavor === LOCAL_FLAVOR) {
    const selection = await selectEngineOnce({
      ...(options.env ? { env: options.env } : {}),
      ...(options.importer ? { importer: options.importer } : {}),
      ...(options.onEngine ? { onEngine: options.onEngine } : {}),
      // ZenML's use_subprocess_call: the docker engine drives the CLI; podman always does.
      ...(stack.imageBuilder.config.use_subprocess_call ? { engineOptions: { subprocess: true } } : {}),
    });
    return new LocalImageBuilder(selection.engine, { available: true, reason: selection.reason });
  }
  const flavor = await loadImageBuilderFlavor(stack.imageBuilder.flavor, options.importer);
  return flavor.create(flavor.configSchema.parse(stack.imageBuilder.config), stack);
}
