import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import pLimit from 'p-limit';
import { invalidInput } from '../errors.js';
import type { DigestCache } from './digest-cache.js';
import { type ContextEntry, fingerprintOf } from './walk.js';

export interface HashOptions {
  cache?: DigestCache;
  /** Files read at once; a few keep the disk busy without thrashing it. */
  concurrency?: number;
}

export interface HashStats {
  files: number;
  /** Files whose digest came from the cache. */
  cached: number;
  bytes: number;
  /** Bytes actually read to hash. */
  bytesRead: number;
}

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
  const limit = pLimit(options.concurrency ?? 4);
  const hashEntry = async (entry: ContextEntry) => {
    if (entry.type !== 'file' || !entry.source) return;
    stats.files++;
    stats.bytes += entry.size;
    if (entry.source.kind === 'generated') {
      entry.digest = createHash('sha256').update(entry.source.content).digest('hex');
      return;
    }
    const { absolute, fingerprint } = entry.source;
    const cached = options.cache?.get(absolute, fingerprint);
    if (cached) {
      entry.digest = cached;
      stats.cached++;
      return;
    }
    entry.digest = await digestFile(absolute);
    stats.bytesRead += entry.size;
    // Only trust the digest if the file did not change while it was read.
    const after = await fingerprintOf(absolute);
    if (after.size !== fingerprint.size || after.mtimeNs !== fingerprint.mtimeNs) {
      throw invalidInput(
        `${absolute} changed while the build context was being hashed; try again once it is written.`,
      );
    }
    options.cache?.set(absolute, fingerprint, entry.digest, now);
  };
  await Promise.all(entries.map((entry) => limit(() => hashEntry(entry))));
  return { hash: contextHashOf(entries), stats };
}

/** The hash of entries whose digests are known. */
export function contextHashOf(entries: ContextEntry[]): string {
  const hash = createHash('sha256');
  for (const entry of entries) {
    const content =
      entry.type === 'symlink' ? (entry.linkTarget ?? '') : entry.type === 'file' ? (entry.digest ?? '') : '';
    if (entry.type === 'file' && !entry.digest) throw new Error(`internal: ${entry.path} was not hashed`);
    hash.update(`${entry.path}\0${entry.type}\0${entry.mode.toString(8)}\0${content}\n`);
  }
  return hash.digest('hex');
}

async function digestFile(absolute: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(absolute, { highWaterMark: 1024 * 1024 }))
    hash.update(chunk as Buffer);
  return hash.digest('hex');
}
