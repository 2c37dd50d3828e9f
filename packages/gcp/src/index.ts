export { artifactStore, gcsObjects } from './artifact-store.js';
export { GcpImageBuilder, gcpStackProblems, statusName } from './builder.js';
export {
  FLAVOR,
  type GcpImageBuilderConfig,
  type GcpImageBuilderOptions,
  gcpImageBuilderConfigSchema,
  LOGGING_MODES,
  MACHINE_TYPES,
  serviceAccountName,
} from './config.js';
export { gcpError } from './errors.js';
export { flavor } from './flavor.js';
export { GcsLogFollower } from './logs.js';
export { dockerBuildArgs, escapeSubstitutions } from './options.js';
export { gcsLocation, uploadIfMissing } from './upload.js';
