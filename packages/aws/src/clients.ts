import { S3Client } from '@aws-sdk/client-s3';
import type { AwsImageBuilderConfig } from './config.js';

/** What every AWS client of a stack shares: region, endpoint, profile and the retries. */
export interface AwsClientSettings {
  region?: string;
  endpoint?: string;
  profile?: string;
  maxAttempts: number;
}

/**
 * The client settings of the aws image builder's config (none: the SDK's own chain, AWS_REGION and the
 * profile). zenbuild pins SDK releases that support Node 20, so the SDK's notice that *later* releases
 * will need Node 22 is not something a zenbuild user can act on: it is turned off here, once for every
 * client (setting the variable to `false` keeps it).
 */
export function awsClientSettings(
  config: Pick<AwsImageBuilderConfig, 'region' | 'endpoint' | 'profile'> | undefined,
): AwsClientSettings {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return {
    ...(config?.region ? { region: config.region } : {}),
    ...(config?.endpoint ? { endpoint: config.endpoint } : {}),
    ...(config?.profile ? { profile: config.profile } : {}),
    // Throttling and 5xx are retried by the SDK with backoff.
    maxAttempts: 5,
  };
}

/** An S3 client on those settings; custom endpoints (LocalStack, MinIO, tests) get path-style URLs. */
export function s3Client(settings: AwsClientSettings, env: NodeJS.ProcessEnv): S3Client {
  return new S3Client({
    ...settings,
    // Custom endpoints rarely resolve bucket subdomains.
    forcePathStyle: Boolean(settings.endpoint || env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL),
  });
}
