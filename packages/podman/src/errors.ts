import { ZenbuildError } from '@zenbuild/core/backend';
import { ENGINE_NAME } from './config.js';

/** The line podman ends a failure with (`Error: ...`), without the progress lines before it. */
export function errorLine(lines: readonly string[]): string | undefined {
  return [...lines].reverse().find((line) => line.startsWith('Error:'));
}

export function cancelled(what: string): ZenbuildError {
  return new ZenbuildError('CANCELLED', `The ${what} was cancelled.`, { backend: ENGINE_NAME });
}
