export { AwsImageBuilder, type AwsImageBuilderOptions, awsStackProblems, FLAVOR } from './builder.js';
export {
  type Buildspec,
  type BuildspecInput,
  createBuildspec,
  DIGEST_VARIABLE,
  dockerBuildFlags,
  PASSWORD_VARIABLE,
  type RegistryLogin,
  serializeBuildspec,
  USERNAME_VARIABLE,
} from './buildspec.js';
export { type AwsImageBuilderConfig, awsImageBuilderConfigSchema, COMPUTE_TYPES } from './config.js';
export { ensureEcrRepository, parseEcrImage } from './ecr.js';
export { awsError } from './errors.js';
export { flavor } from './flavor.js';
export { s3Location, uploadIfMissing } from './upload.js';
