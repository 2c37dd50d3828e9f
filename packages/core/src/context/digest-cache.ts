import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../home/atomic-write.js';
import type { Fingerprint } from './walk.js';

interface CachedDigest extends Fingerprint {
  digest: string;
}

/**
 * File digests remembered by fingerprint (size, mtime, ctime, inode), so an unchanged tree is not read
 * again. One JSON file per context root; a lost update only costs a re-hash, never a wrong digest.
 */
export class DigestCache {
  #entries = new Map<string, CachedDigest>();
  #dirty = false;

  private constructor(private readonly file: string | undefined) {}

  /** A cache that lives only in memory. */
  static inMemory(): DigestCache {
    return new DigestCache(undefined);
  }

  /** The cache for one context root, under `<home>/cache/digests/`. */
  static async open(home: string, root: string): Promise<DigestCache> {
    const name = createHash('sha256').update(path.resolve(root)).digest('hex').slice(0, 32);
    const cache = new DigestCache(path.join(home, 'cache', 'digests', `${name}.json`));
    try {
      const data = JSON.parse(await readFile(cache.file as string, 'utf8')) as Record<string, CachedDigest>;
      cache.#entries = new Map(Object.entries(data));
    } catch {
      // Missing or unreadable: start empty, it is only a cache.
    }
    return cache;
  }

  get(absolute: string, fingerprint: Fingerprint): string | undefined {
    const cached = this.#entries.get(absolute);
    if (!cached) return undefined;
    const same =
      cached.size === fingerprint.size &&
      cached.mtimeNs === fingerprint.mtimeNs &&
      cached.ctimeNs === fingerprint.ctimeNs &&
      cached.ino === fingerprint.ino;
    return same ? cached.digest : undefined;
  }

  set(absolute: string, fingerprint: Fingerprint, digest: string, hashedAtMs: number): void {
    // A file changed in the same clock tick as it was hashed could change again unseen ("racy git"):
    // only remember digests of files older than two seconds.
    if (hashedAtMs - Number(BigInt(fingerprint.mtimeNs) / 1_000_000n) < 2_000) return;
    this.#entries.set(absolute, { ...fingerprint, digest });
    this.#dirty = true;
  }

  async save(): Promise<void> {
    if (!this.file || !this.#dirty) return;
    await writeFileAtomic(this.file, JSON.stringify(Object.fromEntries(this.#entries)));
    this.#dirty = false;
  }
}
