import { notAvailable, ZenbuildError } from '@zenbuild/core/backend';

export const BACKEND = '@zenbuild/aws';

/** What the call was doing, so an error can say which resource and which permission it needed. */
export interface AwsCall {
  /** IAM action, e.g. `codebuild:StartBuild`. */
  action: string;
  /** The resource in words, e.g. "CodeBuild project `builds` in eu-west-1". */
  resource: string;
}

interface SdkError {
  name?: string;
  message?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number; requestId?: string };
}

const ACCESS_DENIED = new Set(['AccessDeniedException', 'AccessDenied', 'UnauthorizedOperation']);

/** The credentials themselves were refused: unknown key, wrong secret, wrong region or service scope. */
const BAD_CREDENTIALS = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'InvalidAccessKeyId',
  'InvalidClientTokenId',
  'AuthorizationHeaderMalformed',
  'MissingAuthenticationTokenException',
]);

const THROTTLED = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'SlowDown',
  'RequestLimitExceeded',
]);

/**
 * Turns an AWS SDK error into a ZenbuildError that says what failed and what to do. Unknown errors keep
 * the SDK's message; every result keeps the SDK error as its cause.
 */
export function awsError(error: unknown, call: AwsCall): ZenbuildError {
  if (error instanceof ZenbuildError) return error;
  const e = (error ?? {}) as SdkError;
  const name = e.name ?? e.Code ?? 'Error';
  const message = (e.message ?? String(error)).trim();
  const status = e.$metadata?.httpStatusCode;
  const options = { backend: BACKEND, cause: error };

  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return notAvailable(
      `No AWS credentials were found for ${call.action} (${message}). Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or use SSO (\`aws sso login\`) or an instance role.`,
      options,
    );
  }
  if (name === 'ExpiredToken' || name === 'ExpiredTokenException') {
    return notAvailable(
      `The AWS credentials have expired (${call.action} on ${call.resource}); refresh them (e.g. \`aws sso login\`) and run again.`,
      options,
    );
  }
  if (BAD_CREDENTIALS.has(name)) {
    return notAvailable(
      `AWS refused the credentials for ${call.action} on ${call.resource}: ${message} Check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the profile, and the region.`,
      options,
    );
  }
  if (!ACCESS_DENIED.has(name) && status === 403) {
    // S3 answers HEAD without a body: a bare 403 is either kind of refusal.
    return notAvailable(
      `AWS answered 403 Forbidden to ${call.action} on ${call.resource}: the credentials are not valid, or the identity in use lacks \`${call.action}\`.`,
      options,
    );
  }
  if (ACCESS_DENIED.has(name)) {
    const missing = /perform:\s*([a-z0-9-]+:[A-Za-z0-9]+)/.exec(message)?.[1] ?? call.action;
    return notAvailable(
      `Access denied: the AWS identity in use may not ${call.action} on ${call.resource}. Grant it \`${missing}\`. AWS said: ${message}`,
      options,
    );
  }
  if (name === 'NoSuchBucket') {
    return notAvailable(
      `${call.resource}: the bucket does not exist. Create it or fix the artifact store's \`path\` in the stack.`,
      options,
    );
  }
  if (THROTTLED.has(name)) {
    return notAvailable(
      `AWS kept throttling ${call.action} on ${call.resource} after several retries; wait a moment and run again, or ask for a higher limit.`,
      options,
    );
  }
  if (name === 'AccountLimitExceededException') {
    return notAvailable(
      `${call.resource}: the account's CodeBuild limit was reached (${message}). Wait for running builds or raise the concurrent-build quota.`,
      options,
    );
  }
  return new ZenbuildError(
    'BUILD_FAILED',
    `${call.action} on ${call.resource} failed: ${name}: ${message}`,
    options,
  );
}
