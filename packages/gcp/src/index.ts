export {
  dockerBuildArgs,
  FLAVOR,
  GcpImageBuilder,
  type GcpImageBuilderOptions,
  gcpStackProblems,
  statusName,
} from './builder.js';
export {
  type GcpImageBuilderConfig,
  gcpImageBuilderConfigSchema,
  LOGGING_MODES,
  MACHINE_TYPES,
  serviceAccountName,
} from './config.js';
export { gcpError } from './errors.js';
export { flavor } from './flavor.js';
export { GcsLogFollower } from './logs.js';
export { gcsLocation, uploadIfMissing } from './upload.js';
