import { createHash } from 'node:crypto';
import { lstatSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../home/atomic-write.js';
import type { Fingerprint } from './walk.js';

/**
 * The cache file, binary because it is read on every plan and a re-plan should cost little more than
 * the stat walk (JSON with one record per file cost 25 ms to parse and 50 ms to compare for 20,000
 * files; this costs a few):
 *
 *   "ZBDC4\n"  u32 header length  header JSON {root, count}
 *   u32 paths length  paths (UTF-8, NUL-separated: a NUL is the one byte no path holds)
 *   count x 4 float64 LE (size, mtimeMs, ctimeMs, ino)  count x 32 bytes (sha256)
 */
const MAGIC = Buffer.from('ZBDC4\n');
const FIELDS = 4;

interface Added {
  fingerprint: Fingerprint;
  digest: string;
}

/** A cache file as read: a path's index finds its fingerprint and digest, decoded once for all. */
interface Loaded {
  /** The paths, sorted as the walk yields them. */
  paths: string[];
  /** Built on the first lookup the in-order cursor misses: an unchanged tree never needs it. */
  index: Map<string, number> | undefined;
  /** Where the next lookup in walk order is expected. */
  cursor: number;
  fingerprints: Float64Array;
  /** All digests as one hex string: slicing it costs nothing, a call into Buffer per file does. */
  digests: string;
  /** 1 for each entry looked up in this process: the others may be files deleted since. */
  seen: Uint8Array;
}

/**
 * File digests remembered by fingerprint (size, mtime, ctime, inode), so an unchanged tree is not read
 * again. One file per context root; a lost update only costs a re-hash, never a wrong digest.
 */
export class DigestCache {
  #loaded: Loaded | undefined;
  readonly #added = new Map<string, Added>();
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
    const cache = new DigestCache(path.join(home, 'cache', 'digests', `${name}.bin`), absolute);
    try {
      cache.#loaded = parse(readFileSync(cache.file as string), absolute);
    } catch {
      // Missing, unreadable, truncated or of another version: start empty, it is only a cache.
    }
    return cache;
  }

  /** The digest of the file at `relPath` if its fingerprint has not changed since it was hashed. */
  get(relPath: string, fingerprint: Fingerprint): string | undefined {
    const added = this.#added.size > 0 ? this.#added.get(relPath) : undefined;
    if (added) return sameFingerprint(added.fingerprint, fingerprint) ? added.digest : undefined;
    const loaded = this.#loaded;
    if (loaded === undefined) return undefined;
    const i = indexOf(loaded, relPath);
    if (i === undefined) return undefined;
    const f = loaded.fingerprints;
    const at = i * FIELDS;
    const same =
      f[at] === fingerprint.size &&
      f[at + 1] === fingerprint.mtimeMs &&
      f[at + 2] === fingerprint.ctimeMs &&
      f[at + 3] === fingerprint.ino;
    loaded.seen[i] = 1;
    return same ? digestAt(loaded, i) : undefined;
  }

  set(relPath: string, fingerprint: Fingerprint, digest: string, hashedAtMs: number): void {
    // A file changed in the same clock tick as it was hashed could change again unseen ("racy git"):
    // only remember digests of files older than two seconds.
    if (hashedAtMs - fingerprint.mtimeMs < 2_000) return;
    this.#added.set(relPath, { fingerprint, digest });
    this.#dirty = true;
  }

  /**
   * Writes the cache when something was added: what was loaded, with the new digests over it, less the
   * files deleted since. A file this run did not look at is kept while it exists: another context of
   * the same root (another dockerignore) may need it.
   */
  async save(): Promise<void> {
    if (!this.file || !this.#dirty) return;
    const records: Array<[string, Fingerprint, string]> = [];
    const loaded = this.#loaded;
    if (loaded) {
      for (const [i, relPath] of loaded.paths.entries()) {
        if (this.#added.has(relPath)) continue;
        if (loaded.seen[i] === 0 && !isFile(path.join(this.root, relPath))) continue;
        records.push([relPath, loadedFingerprint(loaded, i), digestAt(loaded, i)]);
      }
    }
    for (const [relPath, { fingerprint, digest }] of this.#added)
      records.push([relPath, fingerprint, digest]);
    // In the walk's order (a plain code-unit sort, as the walk's), so the next run's lookups find each
    // path where its cursor stands.
    records.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    await writeFileAtomic(this.file, serialise(this.root, records));
    // What was added stays in memory: a later lookup in this process still finds it.
    this.#dirty = false;
  }
}

function sameFingerprint(a: Fingerprint, b: Fingerprint): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino;
}

function serialise(root: string, records: Array<[string, Fingerprint, string]>): Buffer {
  const header = Buffer.from(JSON.stringify({ root, count: records.length }));
  const paths = Buffer.from(records.map(([relPath]) => relPath).join('\0'));
  const table = Buffer.alloc(records.length * (FIELDS * 8 + 32));
  const digests = records.length * FIELDS * 8;
  records.forEach(([, f, digest], i) => {
    const at = i * FIELDS * 8;
    table.writeDoubleLE(f.size, at);
    table.writeDoubleLE(f.mtimeMs, at + 8);
    table.writeDoubleLE(f.ctimeMs, at + 16);
    table.writeDoubleLE(f.ino, at + 24);
    table.write(digest, digests + i * 32, 32, 'hex');
  });
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  };
  return Buffer.concat([MAGIC, u32(header.length), header, u32(paths.length), paths, table]);
}

function parse(data: Buffer, root: string): Loaded | undefined {
  if (!data.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  let at = MAGIC.length;
  const headerLength = data.readUInt32LE(at);
  const header = JSON.parse(data.toString('utf8', at + 4, at + 4 + headerLength)) as {
    root: string;
    count: number;
  };
  at += 4 + headerLength;
  if (header.root !== root) return undefined;
  const pathsLength = data.readUInt32LE(at);
  const paths = header.count === 0 ? [] : data.toString('utf8', at + 4, at + 4 + pathsLength).split('\0');
  at += 4 + pathsLength;
  if (paths.length !== header.count || data.length !== at + header.count * (FIELDS * 8 + 32))
    return undefined;
  const digests = at + header.count * FIELDS * 8;
  // A copy, because a Float64Array view needs an 8-byte aligned offset that the file does not promise.
  const fingerprints = new Float64Array(header.count * FIELDS);
  Buffer.from(fingerprints.buffer).set(data.subarray(at, digests));
  return {
    paths,
    index: undefined,
    cursor: 0,
    fingerprints,
    digests: data.toString('hex', digests, data.length),
    seen: new Uint8Array(header.count),
  };
}

/**
 * A path's position in the loaded cache. Lookups come in walk order and the file is sorted the same way,
 * so the path is nearly always where the cursor stands; a Map is built only when it is not (a file added
 * or deleted since, another dockerignore).
 */
function indexOf(loaded: Loaded, relPath: string): number | undefined {
  const at = loaded.cursor;
  if (loaded.paths[at] === relPath) {
    loaded.cursor = at + 1;
    return at;
  }
  if (loaded.index === undefined) {
    loaded.index = new Map();
    for (let i = 0; i < loaded.paths.length; i++) loaded.index.set(loaded.paths[i] as string, i);
  }
  const i = loaded.index.get(relPath);
  if (i !== undefined) loaded.cursor = i + 1;
  return i;
}

function isFile(absolute: string): boolean {
  try {
    return lstatSync(absolute, { throwIfNoEntry: false })?.isFile() ?? false;
  } catch {
    return false; // e.g. ENOTDIR: a directory on the way became a file
  }
}

function loadedFingerprint({ fingerprints }: Loaded, i: number): Fingerprint {
  const at = i * FIELDS;
  return {
    executable: false, // not stored: the mode is hashed from the walk, not from the cache
    size: fingerprints[at] as number,
    mtimeMs: fingerprints[at + 1] as number,
    ctimeMs: fingerprints[at + 2] as number,
    ino: fingerprints[at + 3] as number,
  };
}

function digestAt({ digests }: Loaded, i: number): string {
  return digests.slice(i * 64, i * 64 + 64);
}
