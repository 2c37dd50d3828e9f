import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { invalidInput } from '../errors.js';
import { EventLoopYield, yieldToEventLoop } from '../util/yield.js';
import type { DigestCache } from './digest-cache.js';
import type { ContextEntry } from './walk.js';

export interface HashOptions {
  cache?: DigestCache;
}

export interface HashStats {
  files: number;
  /** Files whose digest came from the cache. */
  cached: number;
  bytes: number;
  /** Bytes actually read to hash. */
  bytesRead: number;
}

const CHUNK = 4 * 1024 * 1024;

/**
 * The content hash of a context, over exactly the entries that are archived: path, type, mode, and the
 * content digest or link target. Fills each file entry's `digest`.
 */
export async function hashContext(
  entries: ContextEntry[],
  options: HashOptions = {},
): Promise<{ hash: string; stats: HashStats }> {
  const stats: HashStats = { files: 0, cached: 0, bytes: 0, bytesRead: 0 };
  const now = Date.now();
  const buffer = Buffer.allocUnsafe(CHUNK);
  const pause = new EventLoopYield();
  for (const entry of entries) {
    if (entry.type !== 'file' || !entry.source) continue;
    stats.files++;
    stats.bytes += entry.size;
    if (entry.source.kind === 'generated') {
      entry.digest = createHash('sha256').update(entry.source.content).digest('hex');
      continue;
    }
    // The absolute path is made only for a file that is read: a re-plan reads none.
    const { fingerprint } = entry.source;
    const cached = options.cache?.get(entry.path, fingerprint);
    if (cached) {
      entry.digest = cached;
      stats.cached++;
      continue;
    }
    entry.digest = digestFile(entry.source.absolute, fingerprint.size, fingerprint.mtimeMs, buffer);
    stats.bytesRead += entry.size;
    options.cache?.set(entry.path, fingerprint, entry.digest, now);
    if (pause.due(entry.size + 4096)) await yieldToEventLoop();
  }
  return { hash: contextHashOf(entries), stats };
}

/** The hash of entries whose digests are known. */
export function contextHashOf(entries: ContextEntry[]): string {
  const hash = createHash('sha256');
  // Lines are batched: one update per entry costs a call into C++ each, 20 ms for 20,000 files.
  let batch = '';
  for (const entry of entries) {
    const content =
      entry.type === 'symlink' ? (entry.linkTarget ?? '') : entry.type === 'file' ? (entry.digest ?? '') : '';
    if (entry.type === 'file' && !entry.digest) throw new Error(`internal: ${entry.path} was not hashed`);
    batch += `${entry.path}\0${entry.type}\0${entry.mode.toString(8)}\0${content}\n`;
    if (batch.length > 65_536) {
      hash.update(batch);
      batch = '';
    }
  }
  return hash.update(batch).digest('hex');
}

/**
 * sha256 of a file read synchronously in chunks (see walk.ts for why), refusing a file that is not the
 * version that was walked, or that changes while it is read.
 */
function digestFile(absolute: string, size: number, mtimeMs: number, buffer: Buffer): string {
  const fd = openSync(absolute, 'r');
  try {
    const hash = createHash('sha256');
    let total = 0;
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
      total += n;
    }
    const after = fstatSync(fd);
    if (total !== size || after.size !== size || after.mtimeMs !== mtimeMs) {
      throw invalidInput(
        `${absolute} changed while the build context was being hashed; try again once it is written.`,
      );
    }
    return hash.digest('hex');
  } finally {
    closeSync(fd);
  }
}
