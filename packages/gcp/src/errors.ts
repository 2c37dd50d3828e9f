import { notAvailable, ZenbuildError } from '@zenbuild/core/backend';

export const BACKEND = '@zenbuild/gcp';

export interface GcpCall {
  /** What was being done, e.g. "create the Cloud Build build". */
  action: string;
  /** The IAM permission it needs and a role that grants it. */
  permission: string;
  role: string;
  resource: string;
}

/** gRPC status codes (google-gax uses them for REST too) and their HTTP equivalents. */
const PERMISSION_DENIED = 7;
const UNAUTHENTICATED = 16;
const NOT_FOUND = 5;
const RESOURCE_EXHAUSTED = 8;
const INVALID_ARGUMENT = 3;
const FAILED_PRECONDITION = 9;

interface GoogleErrorLike {
  code?: number | string;
  status?: string;
  message?: string;
  errors?: { reason?: string; message?: string }[];
  response?: { status?: number };
}

/**
 * Turns a Google client error (gax GoogleError, or the storage library's ApiError with HTTP codes)
 * into a ZenbuildError that says what to do: enable the API, grant a role, create the bucket...
 */
export function gcpError(error: unknown, call: GcpCall): ZenbuildError {
  if (error instanceof ZenbuildError) return error;
  const e = (error ?? {}) as GoogleErrorLike;
  const message = readableMessage(e.message ?? String(error));
  // gax gives gRPC codes; the storage client (gaxios) HTTP statuses, sometimes only on `response`.
  const code = Number(e.code ?? e.response?.status ?? Number.NaN);
  const options = { backend: BACKEND, cause: error };
  const is = (grpc: number, http: number, status: string) =>
    code === grpc || code === http || e.status === status;

  if (/has not been used in project|is disabled|SERVICE_DISABLED|accessNotConfigured/i.test(message)) {
    const api = /([a-z]+\.googleapis\.com)/.exec(message)?.[1] ?? 'cloudbuild.googleapis.com';
    return notAvailable(
      `The API ${api} is not enabled for the project (${call.action}). Enable it: \`gcloud services enable ${api}\`, then wait a minute and run again.`,
      options,
    );
  }
  if (/Could not load the default credentials|Unable to detect a Project Id/i.test(message)) {
    return notAvailable(
      `No Google Cloud credentials were found to ${call.action}: run \`gcloud auth application-default login\`, set GOOGLE_APPLICATION_CREDENTIALS, or give \`credentials_file\` (and \`project\`) in the image builder config.`,
      options,
    );
  }
  if (is(UNAUTHENTICATED, 401, 'UNAUTHENTICATED')) {
    return notAvailable(
      `Google Cloud did not accept the credentials to ${call.action} (${message}); refresh them (\`gcloud auth application-default login\`) or check the key file.`,
      options,
    );
  }
  if (is(PERMISSION_DENIED, 403, 'PERMISSION_DENIED')) {
    return notAvailable(
      `Permission denied to ${call.action} on ${call.resource}: the account needs \`${call.permission}\` (e.g. the role ${call.role}). Google said: ${message}`,
      options,
    );
  }
  // Storage calls name their object; a 404 while writing one can only mean the bucket is missing.
  const storageWrite = call.resource.startsWith('gs://') && call.permission === 'storage.objects.create';
  if (
    /bucket does not exist|No such bucket/i.test(message) ||
    (is(NOT_FOUND, 404, 'NOT_FOUND') && storageWrite)
  ) {
    return notAvailable(
      `${call.resource}: the bucket does not exist. Create it or fix the artifact store's \`path\` in the stack.`,
      options,
    );
  }
  if (is(RESOURCE_EXHAUSTED, 429, 'RESOURCE_EXHAUSTED')) {
    return notAvailable(
      `Google Cloud quota exceeded to ${call.action} (${message}). Wait for running builds or ask for a higher quota.`,
      options,
    );
  }
  if (is(INVALID_ARGUMENT, 400, 'INVALID_ARGUMENT') || is(FAILED_PRECONDITION, 400, 'FAILED_PRECONDITION')) {
    const field = /machine ?type|worker ?pool|pool/i.exec(message)?.[0];
    const hint = field
      ? ` Check \`${/machine/i.test(field) ? 'machine_type' : 'worker_pool'}\` in the image builder config: the value is not valid for this project or region.`
      : '';
    return new ZenbuildError(
      'INVALID_INPUT',
      `Cloud Build refused the request to ${call.action}: ${message}.${hint}`,
      options,
    );
  }
  return new ZenbuildError(
    'BUILD_FAILED',
    `Could not ${call.action} (${call.resource}): ${message}`,
    options,
  );
}

/** The REST transport sometimes gives the whole JSON error body as the message; keep its text. */
function readableMessage(raw: string): string {
  const text = raw.trim();
  if (!text.startsWith('{')) return text;
  try {
    const body = JSON.parse(text) as { error?: { message?: string } | string; message?: string };
    const inner = typeof body.error === 'string' ? body.error : (body.error?.message ?? body.message);
    return inner?.trim() || text;
  } catch {
    return text;
  }
}
