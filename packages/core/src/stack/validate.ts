import { issuesToError, userInputParse } from '../config/issues.js';
import type { StackProblem } from '../contracts.js';
import { loadImageBuilderFlavor, type ModuleImporter } from '../flavors/load.js';
import { IMAGE_BUILDER_FLAVORS } from '../flavors/table.js';
import { type Stack, stackProblemsError } from './stack.js';

/**
 * Validates what only the image builder's own package knows: its config schema and its extra stack
 * rules. A missing package is a NOT_AVAILABLE error naming the package (exit 3). Returns warnings.
 */
export async function validateImageBuilderFlavor(
  stack: Stack,
  importer?: ModuleImporter,
): Promise<StackProblem[]> {
  const info = IMAGE_BUILDER_FLAVORS[stack.imageBuilder.flavor];
  if (!info?.package) return [];
  const flavor = await loadImageBuilderFlavor(stack.imageBuilder.flavor, importer);
  const parsed = flavor.configSchema.safeParse(stack.imageBuilder.config, userInputParse);
  if (!parsed.success) {
    throw issuesToError(parsed.error, {
      what: 'stack definition',
      basePath: ['components', 'image_builder', 'config'],
      ...(stack.file ? { file: stack.file } : {}),
    });
  }
  const problems = flavor.validateStack?.(stack) ?? [];
  const errors = problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) throw stackProblemsError(errors, stack.file);
  return problems.filter((p) => p.severity === 'warning');
}
