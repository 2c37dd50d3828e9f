import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { invalidInput } from '../errors.js';
import type { DigestCache } from './digest-cache.js';
import { digestFiles, type FileToHash, hashThreadCount } from './hash-threads.js';
import { type ContextEntry, type Fingerprint, unreadable } from './walk.js';

export interface HashOptions {
  cache?: DigestCache;
  /**
   * Threads to hash on, the main one included (default: one per 64 MiB to read, at most one per core
   * and four in all; 1 hashes on the main thread only). Only files the cache does not know are read.
   */
  threads?: number;
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
  // The files the cache does not know: read after the lookups, on several threads when they are many.
  const toRead: Array<{ entry: ContextEntry; fingerprint: Fingerprint }> = [];
  const files: FileToHash[] = [];
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
    toRead.push({ entry, fingerprint });
    files.push({ absolute: entry.source.absolute, size: fingerprint.size, mtimeMs: fingerprint.mtimeMs });
    stats.bytesRead += entry.size;
  }
  const buffer = Buffer.allocUnsafe(CHUNK);
  const digestHere = (i: number) => {
    const file = files[i] as FileToHash;
    return digestFile(file.absolute, file.size, file.mtimeMs, buffer);
  };
  const threads = Math.min(files.length, hashThreadCount(stats.bytesRead, options.threads));
  const digests = await digestFiles(files, threads, digestHere);
  for (const [i, { entry, fingerprint }] of toRead.entries()) {
    entry.digest = digests[i] as string;
    options.cache?.set(entry.path, fingerprint, entry.digest, now);
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
  let fd: number;
  try {
    fd = openSync(absolute, 'r');
  } catch (error) {
    throw unreadable(absolute, error);
  }
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
