import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../home/atomic-write.js';
import type { Fingerprint } from './walk.js';

interface CacheFile {
  version: 3;
  root: string;
  /**
   * Path relative to the root → `"<size> <mtimeMs> <ctimeMs> <inode> <sha256>"`. One string per file,
   * read as a plain object: the cache is loaded on every plan, and 20,000 arrays or a Map cost more
   * to build than the lookups they serve.
   */
  files: Record<string, string>;
}

const stamp = (f: Fingerprint) => `${f.size} ${f.mtimeMs} ${f.ctimeMs} ${f.ino} `;

/**
 * File digests remembered by fingerprint (size, mtime, ctime, inode), so an unchanged tree is not read
 * again. One JSON file per context root; a lost update only costs a re-hash, never a wrong digest.
 */
export class DigestCache {
  #files: Record<string, string> = {};
  #dirty = false;

  private constructor(
    private readonly file: string | undefined,
    private readonly root: string,
  ) {}

  /** A cache that lives only in memory. */
  static inMemory(): DigestCache {
    return new DigestCache(undefined, '');
  }

  /** The cache for one context root, under `<home>/cache/digests/`. */
  static async open(home: string, root: string): Promise<DigestCache> {
    const absolute = path.resolve(root);
    const name = createHash('sha256').update(absolute).digest('hex').slice(0, 32);
    const cache = new DigestCache(path.join(home, 'cache', 'digests', `${name}.json`), absolute);
    try {
      const data = JSON.parse(await readFile(cache.file as string, 'utf8')) as CacheFile;
      if (data.version === 3 && data.root === absolute) cache.#files = data.files;
    } catch {
      // Missing, unreadable or of another version: start empty, it is only a cache.
    }
    return cache;
  }

  /** The digest of the file at `relPath` if its fingerprint has not changed since it was hashed. */
  get(relPath: string, fingerprint: Fingerprint): string | undefined {
    // hasOwn: a file named `constructor` must not find Object.prototype's.
    if (!Object.hasOwn(this.#files, relPath)) return undefined;
    const cached = this.#files[relPath] as string;
    const expected = stamp(fingerprint);
    return cached.startsWith(expected) ? cached.slice(expected.length) : undefined;
  }

  set(relPath: string, fingerprint: Fingerprint, digest: string, hashedAtMs: number): void {
    // A file changed in the same clock tick as it was hashed could change again unseen ("racy git"):
    // only remember digests of files older than two seconds.
    if (hashedAtMs - fingerprint.mtimeMs < 2_000) return;
    this.#files[relPath] = `${stamp(fingerprint)}${digest}`;
    this.#dirty = true;
  }

  async save(): Promise<void> {
    if (!this.file || !this.#dirty) return;
    const data: CacheFile = { version: 3, root: this.root, files: this.#files };
    await writeFileAtomic(this.file, JSON.stringify(data));
    this.#dirty = false;
  }
}
