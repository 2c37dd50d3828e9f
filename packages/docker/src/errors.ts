import { type LogTail, notAvailable, type RunContext, ZenbuildError } from '@zenbuild/core/backend';
import { ENGINE_NAME } from './config.js';
import type { DockerConnection } from './connection.js';

/** The daemon's own message: dockerode puts it in `json.message`, node in `message`. */
export function messageOf(error: unknown): string {
  const e = error as { json?: { message?: string }; reason?: string; message?: string };
  return e?.json?.message ?? e?.message ?? String(error);
}

/** A build or push stream that broke: cancelled when the run was, else the daemon failed mid-way. */
export function daemonFailed(
  what: string,
  image: string,
  error: unknown,
  run: RunContext,
  tail: LogTail,
  daemon: DockerConnection,
): ZenbuildError {
  if (run.signal.aborted) {
    return new ZenbuildError('CANCELLED', `The ${what} of ${image} was cancelled.`, {
      backend: ENGINE_NAME,
      cause: error,
    });
  }
  if (error instanceof ZenbuildError) return error;
  return notAvailable(
    `The Docker daemon at ${daemon.description} failed during the ${what} of ${image}: ${messageOf(error)}`,
    {
      backend: ENGINE_NAME,
      cause: error,
      details: { stderrTail: tail.text },
    },
  );
}
