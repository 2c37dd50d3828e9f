import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { invalidInput, isRunning } from '@zenbuild/core/backend';

/** Unpacked contexts kept when `ZENBUILD_PODMAN_KEEP_CONTEXTS` is not set. */
export const DEFAULT_KEPT_CONTEXTS = 2;
export const KEEP_CONTEXTS_VARIABLE = 'ZENBUILD_PODMAN_KEEP_CONTEXTS';

export interface CheckedOutContext {
  /** The unpacked context, private to this build until `release`. */
  dir: string;
  /** True when the directory came from an earlier build instead of a fresh unpack. */
  reused: boolean;
  /** Puts the directory back for the next build of the same context (or removes it) and evicts old ones. */
  release(): Promise<void>;
}

const HASH = /^[0-9a-f]{64}$/;
/** `inuse-<hash or "fresh">-<pid>-<nonce>`: a build's private copy. */
const IN_USE = /^inuse-[0-9a-z]+-(\d+)-[0-9a-f]+$/;
/** `trash-<ms since the epoch>-<nonce>`: a copy on its way out; older names carry no time (0). */
const TRASH = /^trash-(\d+)-[0-9a-f]+$/;
/** A copy being removed in the background longer than this was abandoned (its remover was killed). */
const ABANDONED_AFTER_MS = 10 * 60_000;
/** `built-<hash>`: an empty file saying a context was built once; its mtime is when. */
const BUILT = /^built-[0-9a-f]{64}$/;
/** How many of those markers are remembered. */
const MARKERS = 64;

/**
 * podman builds from a directory, so every build writes its context to disk: 0.25 s or more per 100 MB,
 * which a rebuild of an unchanged context can skip. Unpacked contexts are kept by content hash, the
 * `keep` most recently used ones, from a context's second build on: most contexts are built once (the
 * next code change makes a new one), and keeping those would only cost the disk writes (about 0.17 s
 * per 100 MB measured on a cold build).
 *
 * No locks: a build takes a context by renaming it to a private name, so nothing else can use or evict
 * it meanwhile, and renames it back when done. Two concurrent builds of one context each get a copy.
 *
 * A copy that is not kept is renamed to `trash-...` and removed by a detached `rm -rf` that the build
 * does not wait for: removing 500 MB in 5000 files takes 0.4–0.7 s here, on every first build.
 */
export class UnpackedContexts {
  constructor(
    readonly dir: string,
    readonly keep: number,
  ) {}

  /** The cache under zenbuild's home, sized by `ZENBUILD_PODMAN_KEEP_CONTEXTS` (0 keeps none). */
  static fromEnv(home: string, env: NodeJS.ProcessEnv): UnpackedContexts {
    const raw = env[KEEP_CONTEXTS_VARIABLE];
    let keep = DEFAULT_KEPT_CONTEXTS;
    if (raw !== undefined && raw !== '') {
      if (!/^\d+$/.test(raw.trim()))
        throw invalidInput(
          `${KEEP_CONTEXTS_VARIABLE} must be a whole number of unpacked build contexts to keep (0 keeps none), got \`${raw}\`.`,
        );
      keep = Number(raw.trim());
    }
    return new UnpackedContexts(path.join(home, 'cache', 'podman-contexts'), keep);
  }

  /**
   * A directory holding the context with this content hash: an earlier build's, or a fresh one that
   * `unpack` fills, kept after this build if the context was built before. A failed unpack leaves
   * nothing behind.
   */
  async checkOut(hash: string, unpack: (into: string) => Promise<void>): Promise<CheckedOutContext> {
    await mkdir(this.dir, { recursive: true });
    const eligible = this.keep > 0 && HASH.test(hash);
    const mine = path.join(this.dir, `inuse-${eligible ? hash : 'fresh'}-${process.pid}-${nonce()}`);
    if (eligible) {
      try {
        await rename(path.join(this.dir, hash), mine);
        return { dir: mine, reused: true, release: () => this.#release(hash, mine) };
      } catch (error) {
        if (!isMissing(error)) throw error;
      }
    }
    const marker = path.join(this.dir, `built-${hash}`);
    const builtBefore = eligible && (await stat(marker).then(() => true, isMissingOrThrow));
    await mkdir(mine);
    try {
      await unpack(mine);
    } catch (error) {
      await rm(mine, { recursive: true, force: true });
      throw error;
    }
    if (eligible) await writeFile(marker, '');
    return {
      dir: mine,
      reused: false,
      release: () => this.#release(builtBefore ? hash : undefined, mine),
    };
  }

  /** Never throws: keeping a context is an optimisation and must not turn a build into a failure. */
  async #release(hash: string | undefined, mine: string): Promise<void> {
    let kept = false;
    if (hash !== undefined) {
      try {
        const now = new Date();
        await utimes(mine, now, now); // the last use decides what is evicted first
        await rename(mine, path.join(this.dir, hash));
        kept = true;
      } catch {
        // Another build of the same context gave its copy back first: one is enough.
      }
    }
    if (!kept) await this.#discard(mine).catch(() => {});
    await this.evict().catch(() => {});
  }

  /**
   * Removes all but the `keep` most recently used contexts, and the copies of builds whose process
   * is gone (killed while building). A context some build has taken is not here to be removed.
   */
  async evict(): Promise<void> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const kept: Array<{ name: string; usedMs: number }> = [];
    const markers: Array<{ name: string; usedMs: number }> = [];
    const doomed: string[] = [];
    const lastUse = (name: string) =>
      stat(path.join(this.dir, name)).then(
        (s) => s.mtimeMs,
        () => undefined,
      );
    for (const name of names) {
      if (HASH.test(name) || BUILT.test(name)) {
        const usedMs = await lastUse(name);
        if (usedMs !== undefined) (HASH.test(name) ? kept : markers).push({ name, usedMs });
      } else if (name.startsWith('trash-')) {
        // A removal that was interrupted; one still running in the background is left to finish.
        const since = Number(TRASH.exec(name)?.[1] ?? 0);
        if (Date.now() - since > ABANDONED_AFTER_MS) doomed.push(name);
      } else {
        const pid = IN_USE.exec(name)?.[1];
        if (pid !== undefined && !isRunning(Number(pid))) doomed.push(name);
      }
    }
    markers.sort((a, b) => b.usedMs - a.usedMs);
    doomed.push(...markers.slice(this.keep === 0 ? 0 : MARKERS).map((m) => m.name));
    kept.sort((a, b) => b.usedMs - a.usedMs);
    const evicted = kept.slice(this.keep).map(({ name }) => path.join(this.dir, name));
    await Promise.all([
      // A context some build took meanwhile is in use, not stale: its rename fails and it stays.
      ...evicted.map((dir) => this.#discard(dir).catch(() => {})),
      ...doomed.map((name) =>
        rm(path.join(this.dir, name), { recursive: true, force: true }).catch(() => {}),
      ),
    ]);
  }

  /**
   * Renamed first, so the directory is gone at once for every other build, then removed in the
   * background (or here, when no `rm` can be started). Rejects when the rename fails.
   */
  async #discard(dir: string): Promise<void> {
    const trash = path.join(this.dir, `trash-${Date.now()}-${nonce()}`);
    await rename(dir, trash);
    if (!(await removeDetached(trash))) await rm(trash, { recursive: true, force: true });
  }
}

/**
 * `rm -rf DIR` in a process of its own that outlives this one; true once it has started. A remover
 * killed halfway leaves a `trash-` directory, which a later eviction removes.
 */
function removeDetached(dir: string): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      const child = spawn('rm', ['-rf', '--', dir], { detached: true, stdio: 'ignore' });
      child.once('spawn', () => {
        child.unref();
        resolve(true);
      });
      child.once('error', () => resolve(false));
    } catch {
      resolve(false);
    }
  });
}

function nonce(): string {
  return randomBytes(6).toString('hex');
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

function isMissingOrThrow(error: unknown): false {
  if (isMissing(error)) return false;
  throw error;
}
