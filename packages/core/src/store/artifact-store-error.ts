import { ZenbuildError } from '../errors.js';

/**
 * A backend's error about the artifact store (build records, code archives), naming the store even
 * where the service's own message does not (missing credentials say nothing of a bucket).
 */
export function namingArtifactStore(location: string, error: ZenbuildError, cause: unknown): ZenbuildError {
  if (error.message.includes(location)) return error;
  return new ZenbuildError(
    error.code,
    `The artifact store ${location}, where the stack keeps its build records and code archives: ${error.message}`,
    { ...(error.backend ? { backend: error.backend } : {}), cause },
  );
}
