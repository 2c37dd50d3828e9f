import { invalidInput } from '../errors.js';
import type { EntrySource } from './walk.js';

/** Refuses a source file that is no longer the version that was walked and hashed. */
export function assertUnchanged(
  source: Extract<EntrySource, { kind: 'fs' }>,
  stat: { size: number; mtimeMs: number },
): void {
  if (stat.size !== source.fingerprint.size || stat.mtimeMs !== source.fingerprint.mtimeMs) {
    throw invalidInput(
      `${source.absolute} changed after the build context was planned; run the build again so the plan, the hash and the archive agree.`,
    );
  }
}
