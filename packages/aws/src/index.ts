export { artifactStore, s3Objects } from './artifact-store.js';
export { AwsImageBuilder, awsStackProblems } from './builder.js';
export {
  type Buildspec,
  type BuildspecInput,
  createBuildspec,
  DIGEST_VARIABLE,
  PASSWORD_VARIABLE,
  type RegistryLogin,
  serializeBuildspec,
  USERNAME_VARIABLE,
} from './buildspec.js';
export {
  type AwsImageBuilderConfig,
  type AwsImageBuilderOptions,
  awsImageBuilderConfigSchema,
  COMPUTE_TYPES,
  FLAVOR,
} from './config.js';
export { ensureEcrRepository, parseEcrImage } from './ecr.js';
export { awsError } from './errors.js';
export { flavor } from './flavor.js';
export { dockerBuildFlags } from './options.js';
export { s3Location, uploadIfMissing } from './upload.js';
