import { z } from '@zenbuild/core/backend';

export const FLAVOR = 'gcp';

/** Knobs for tests and embedders; users configure the builder through the stack. */
export interface GcpImageBuilderOptions {
  /** How often the log object is read while the build runs. */
  logPollMs?: number;
  /** Overall client-side limit; default: the build timeout plus ten minutes for queueing. */
  overallTimeoutMs?: number;
}

export const MACHINE_TYPES = [
  'E2_MEDIUM',
  'E2_STANDARD_2',
  'E2_HIGHCPU_8',
  'E2_HIGHCPU_32',
  'N1_HIGHCPU_8',
  'N1_HIGHCPU_32',
] as const;
export const LOGGING_MODES = ['LEGACY', 'GCS_ONLY', 'CLOUD_LOGGING_ONLY', 'NONE'] as const;

const WORKER_POOL = /^projects\/[^/]+\/locations\/[^/]+\/workerPools\/[^/]+$/;

/** The `gcp` image builder's config: ZenML's fields (GCPImageBuilderConfig) plus project, endpoints, pool and logging. */
export const gcpImageBuilderConfigSchema = z
  .strictObject({
    cloud_builder_image: z.string().min(1, 'must not be empty').default('gcr.io/cloud-builders/docker'),
    /** The docker network of the build step; `cloudbuild` reaches the metadata server (ADC). */
    network: z.string().min(1, 'must not be empty').default('cloudbuild'),
    /** Seconds. */
    build_timeout: z
      .number({ error: 'must be a number of seconds' })
      .int()
      .positive('must be positive')
      .default(3600),
    /** A region for regional builds and private pools; empty means global, as in ZenML. */
    location: z
      .string()
      .transform((v) => (v.trim() === '' ? undefined : v.trim()))
      .pipe(
        z
          .string()
          .regex(/^[a-z]+(-[a-z]+)*\d+$/, 'must be a region such as `europe-west1`')
          .optional(),
      )
      .optional(),
    /** Else the project of the credentials (ADC, the key file, GOOGLE_CLOUD_PROJECT). */
    project: z
      .string()
      .regex(
        /^[a-z][a-z0-9-]{4,28}[a-z0-9]$|^[a-z0-9.-]+:[a-z][a-z0-9-]+$/,
        'must be a Google Cloud project id',
      )
      .optional(),
    /** A service account key file; else Application Default Credentials. */
    credentials_file: z.string().min(1).optional(),
    /**
     * Cloud Build API endpoint, e.g. `europe-west1-cloudbuild.googleapis.com`. An `http://host:port` URL
     * is an emulator: REST over plain HTTP, no credentials.
     */
    api_endpoint: z.string().min(1).optional(),
    /** GCS JSON API endpoint (an emulator); `STORAGE_EMULATOR_HOST` works too. */
    storage_endpoint: z.url({ error: 'must be a URL such as `http://localhost:4443`' }).optional(),
    worker_pool: z
      .string()
      .regex(WORKER_POOL, 'must be `projects/PROJECT/locations/REGION/workerPools/NAME`')
      .optional(),
    machine_type: z.enum(MACHINE_TYPES, { error: `must be one of ${MACHINE_TYPES.join(', ')}` }).optional(),
    logging: z.enum(LOGGING_MODES, { error: `must be one of ${LOGGING_MODES.join(', ')}` }).optional(),
    /** `gs://bucket[/prefix]` for build logs; needed with `service_account` unless logs are not in GCS. */
    logs_bucket: z
      .string()
      .regex(/^gs:\/\/[^/\s]+(\/\S*)?$/, 'must be a gs:// URL such as `gs://my-build-logs`')
      .optional(),
    /** `projects/PROJECT/serviceAccounts/EMAIL` or just the email. */
    service_account: z.string().min(1).optional(),
  })
  .superRefine((c, ctx) => {
    // Cloud Build refuses a user-managed service account whose logs have nowhere to go.
    if (c.service_account && !c.logs_bucket && c.logging !== 'CLOUD_LOGGING_ONLY' && c.logging !== 'NONE') {
      ctx.addIssue({
        code: 'custom',
        path: ['logs_bucket'],
        message:
          'is required with `service_account` (Cloud Build needs a logs bucket for it), unless `logging` is CLOUD_LOGGING_ONLY or NONE',
      });
    }
    if (c.worker_pool && c.machine_type) {
      ctx.addIssue({
        code: 'custom',
        path: ['machine_type'],
        message: 'cannot be combined with `worker_pool` (the pool decides the machine)',
      });
    }
    if (c.worker_pool && c.location && !c.worker_pool.includes(`/locations/${c.location}/`)) {
      ctx.addIssue({
        code: 'custom',
        path: ['worker_pool'],
        message: `is in another region than \`location: ${c.location}\``,
      });
    }
  });

export type GcpImageBuilderConfig = z.output<typeof gcpImageBuilderConfigSchema>;

/** A service account as Cloud Build takes it: the full resource name. */
export function serviceAccountName(account: string, project: string): string {
  return account.startsWith('projects/') ? account : `projects/${project}/serviceAccounts/${account}`;
}
