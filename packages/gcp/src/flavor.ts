import type { ImageBuilderFlavor } from '@zenbuild/core/backend';
import { GcpImageBuilder, gcpStackProblems } from './builder.js';
import { FLAVOR, type GcpImageBuilderConfig, gcpImageBuilderConfigSchema } from './config.js';

/** The `gcp` image builder flavor, as core's registry loads it. */
export const flavor: ImageBuilderFlavor<GcpImageBuilderConfig> = {
  name: FLAVOR,
  isBuildingLocally: false,
  configSchema: gcpImageBuilderConfigSchema,
  validateStack: (stack) =>
    gcpStackProblems(gcpImageBuilderConfigSchema.parse(stack.imageBuilder.config), stack),
  create: (config, stack) => new GcpImageBuilder(config, stack),
};
