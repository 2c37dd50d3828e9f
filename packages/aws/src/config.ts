import { z } from '@zenbuild/core/backend';

export const FLAVOR = 'aws';

/** Knobs for tests and embedders; users configure the builder through the stack. */
export interface AwsImageBuilderOptions {
  env?: NodeJS.ProcessEnv;
  /** Status polling backoff. */
  poll?: { initialMs: number; maxMs: number };
  /** Overall client-side limit; default: CodeBuild's queued plus build timeout, plus five minutes. */
  overallTimeoutMs?: number;
}

/** CodeBuild's container compute types. Lambda compute cannot run docker (no privileged mode). */
export const COMPUTE_TYPES = [
  'BUILD_GENERAL1_SMALL',
  'BUILD_GENERAL1_MEDIUM',
  'BUILD_GENERAL1_LARGE',
  'BUILD_GENERAL1_XLARGE',
  'BUILD_GENERAL1_2XLARGE',
] as const;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Variables for the build; a bad name is reported at its own path. */
const envVariables = z.record(z.string(), z.string()).superRefine((vars, ctx) => {
  for (const name of Object.keys(vars)) {
    if (!ENV_NAME.test(name)) {
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: 'must be an environment variable name (letters, digits, `_`, not starting with a digit)',
      });
    }
  }
});

/**
 * Registry credentials for non-ECR registries, as references CodeBuild resolves inside the build: the
 * password never travels in the buildspec or as a plain-text variable.
 */
const registryCredentialsSchema = z
  .strictObject({
    username: z.string().min(1, 'must not be empty'),
    /** A Secrets Manager reference: `secret-id[:json-key[:version-stage[:version-id]]]`. */
    password_secret: z.string().min(1, 'must not be empty').optional(),
    /** A Parameter Store name, e.g. `/ci/registry-password` (a SecureString). */
    password_parameter: z.string().min(1, 'must not be empty').optional(),
  })
  .refine((c) => (c.password_secret === undefined) !== (c.password_parameter === undefined), {
    message:
      'give exactly one of `password_secret` (Secrets Manager) or `password_parameter` (Parameter Store)',
  });

/** The `aws` image builder's config: ZenML's fields (AWSImageBuilderConfig) plus region, endpoints and timeouts. */
export const awsImageBuilderConfigSchema = z.strictObject({
  code_build_project: z
    .string({
      error: 'the aws image builder needs `code_build_project`: the name of an existing CodeBuild project',
    })
    .min(1, 'must not be empty'),
  build_image: z.string().min(1, 'must not be empty').default('bentolor/docker-dind-awscli'),
  compute_type: z
    .enum(COMPUTE_TYPES, { error: `must be one of ${COMPUTE_TYPES.join(', ')}` })
    .default('BUILD_GENERAL1_SMALL'),
  custom_env_vars: envVariables.default({}),
  implicit_container_registry_auth: z.boolean().default(true),
  /** Else the SDK's chain: `AWS_REGION`, the profile's region. */
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as `eu-west-1`')
    .optional(),
  /**
   * One endpoint for every AWS service this builder calls (LocalStack and similar). The standard
   * `AWS_ENDPOINT_URL_CODEBUILD`, `AWS_ENDPOINT_URL_S3` and `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS` still work.
   */
  endpoint: z.url({ error: 'must be a URL such as `http://localhost:4566`' }).optional(),
  /** An AWS profile of the shared config files; else `AWS_PROFILE` or the default chain. */
  profile: z.string().min(1).optional(),
  /** Seconds. CodeBuild stops the build after this (rounded up to whole minutes, 5 to 2160). */
  build_timeout: z.number().int().min(300).max(129_600).default(3600),
  /** Seconds a build may wait in CodeBuild's queue before it is stopped. */
  queued_timeout: z.number().int().min(300).max(28_800).default(3600),
  registry_credentials: registryCredentialsSchema.optional(),
});

export type AwsImageBuilderConfig = z.output<typeof awsImageBuilderConfigSchema>;
