import type { ImageBuilderFlavor } from '@zenbuild/core/backend';
import { AwsImageBuilder, awsStackProblems } from './builder.js';
import { type AwsImageBuilderConfig, awsImageBuilderConfigSchema, FLAVOR } from './config.js';

/** The `aws` image builder flavor, as core's registry loads it. */
export const flavor: ImageBuilderFlavor<AwsImageBuilderConfig> = {
  name: FLAVOR,
  isBuildingLocally: false,
  configSchema: awsImageBuilderConfigSchema,
  validateStack: (stack) =>
    awsStackProblems(awsImageBuilderConfigSchema.parse(stack.imageBuilder.config), stack),
  create: (config, stack) => new AwsImageBuilder(config, stack),
};
