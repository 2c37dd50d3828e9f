import { EXIT_CODES, isZenbuildError } from '@zenbuild/core';
import type { Io } from './io.js';

/** Reports an error the way every command does and returns the exit code (README.md, exit codes). */
export function reportError(io: Io, error: unknown, json: boolean): number {
  if (isZenbuildError(error)) {
    io.err(`zenbuild: ${error.message}`);
    if (json) {
      io.json({
        error: {
          code: error.code,
          message: error.message,
          ...(error.backend ? { backend: error.backend } : {}),
          details: error.details,
        },
      });
    }
    return error.exitCode;
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  io.err(
    `zenbuild: internal error: ${message}\nThis is a bug in zenbuild; please report it with the command you ran.`,
  );
  if (json)
    io.json({ error: { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) } });
  return EXIT_CODES.INTERNAL;
}
