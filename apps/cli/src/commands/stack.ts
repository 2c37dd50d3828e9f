import { describeStack, loadStack, validateImageBuilderFlavor } from '@zenbuild/core';
import type { Io } from '../io.js';
import { printWarnings } from '../warnings.js';

/** `zenbuild stack validate [FILE]`: structure, component configs, stack rules, the flavor's own schema. */
export async function stackValidateCommand(
  io: Io,
  file: string | undefined,
  options: { json?: boolean },
): Promise<number> {
  const { stack, warnings } = await loadStack(file, { env: io.env });
  io.secrets.merge(stack.secrets);
  warnings.push(...(await validateImageBuilderFlavor(stack)));
  printWarnings(io, warnings);
  if (options.json) {
    io.json({ valid: true, stack: describeStack(stack), warnings });
  } else {
    const registry = stack.containerRegistry
      ? `${stack.containerRegistry.flavor} registry ${stack.containerRegistry.uri}`
      : 'no registry (images stay local)';
    const store = `${stack.artifactStore.flavor} artifact store${stack.artifactStore.path ? ` ${stack.artifactStore.path}` : ''}`;
    io.out(
      `Stack \`${stack.name}\` is valid: ${stack.imageBuilder.flavor} image builder, ${registry}, ${store}.`,
    );
  }
  return 0;
}
