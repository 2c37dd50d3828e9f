import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ZenbuildError } from '@zenbuild/core/backend';
import { describe, expect, it } from 'vitest';
import { UnpackedContexts } from './unpacked-contexts.js';

const hashA = 'a'.repeat(64);
const hashB = 'b'.repeat(64);
const hashC = 'c'.repeat(64);

function cacheDir(): string {
  return path.join(mkdtempSync(path.join(tmpdir(), 'zenbuild-unpacked-')), 'contexts');
}

/** An unpack that writes one file naming what it unpacked, and counts its calls. */
function unpacker(content: string) {
  const calls: string[] = [];
  const unpack = async (into: string) => {
    calls.push(into);
    await writeFile(path.join(into, 'Dockerfile'), content);
  };
  return { unpack, calls };
}

/** Builds a context once: checked out, unpacked, released. */
async function buildOnce(contexts: UnpackedContexts, hash: string, unpack = unpacker(hash).unpack) {
  const checkedOut = await contexts.checkOut(hash, unpack);
  await checkedOut.release();
  return checkedOut;
}

/**
 * What the directory holds once the copies on their way out are gone: a copy that is not kept is
 * renamed to `trash-...` at once and removed by a process of its own, which the build does not wait for.
 */
async function settled(dir: string): Promise<string[]> {
  for (let waited = 0; readdirSync(dir).some((name) => name.startsWith('trash-')); waited += 10) {
    if (waited > 5000) throw new Error(`still being removed: ${readdirSync(dir).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return readdirSync(dir).sort();
}

/** The contexts kept (the directories named by hash), without the built-once markers. */
const keptIn = (dir: string) =>
  readdirSync(dir)
    .filter((name) => /^[0-9a-f]{64}$/.test(name))
    .sort();

describe('UnpackedContexts', () => {
  it('keeps a context from its second build on, and hands those files to the next build', async () => {
    const contexts = new UnpackedContexts(cacheDir(), 2);
    const { unpack, calls } = unpacker('FROM scratch\n');

    // Built once: most contexts are (the next code change makes a new one), so it is not kept.
    const first = await contexts.checkOut(hashA, unpack);
    expect(first.reused).toBe(false);
    expect(readFileSync(path.join(first.dir, 'Dockerfile'), 'utf8')).toBe('FROM scratch\n');
    await first.release();
    expect(await settled(contexts.dir)).toEqual([`built-${hashA}`]);

    const second = await buildOnce(contexts, hashA, unpack);
    expect(second.reused).toBe(false);
    expect(keptIn(contexts.dir)).toEqual([hashA]);

    const third = await contexts.checkOut(hashA, unpack);
    expect(third.reused).toBe(true);
    expect(calls).toHaveLength(2);
    expect(readFileSync(path.join(third.dir, 'Dockerfile'), 'utf8')).toBe('FROM scratch\n');
    // While a build has it, the context is under a private name: nothing else can take or evict it.
    expect(keptIn(contexts.dir)).toEqual([]);
    expect(readdirSync(contexts.dir)).toContain(path.basename(third.dir));
    await third.release();
    expect(keptIn(contexts.dir)).toEqual([hashA]);
  });

  it('gives concurrent builds of one context their own copies and keeps one of them', async () => {
    const contexts = new UnpackedContexts(cacheDir(), 2);
    await buildOnce(contexts, hashA);
    const { unpack, calls } = unpacker('FROM scratch\n');
    const [one, two] = await Promise.all([
      contexts.checkOut(hashA, unpack),
      contexts.checkOut(hashA, unpack),
    ]);
    expect(one?.dir).not.toBe(two?.dir);
    expect(calls).toHaveLength(2);
    await Promise.all([one?.release(), two?.release()]);
    expect(keptIn(contexts.dir)).toEqual([hashA]);
    expect(readFileSync(path.join(contexts.dir, hashA, 'Dockerfile'), 'utf8')).toBe('FROM scratch\n');
  });

  it('keeps only the most recently used contexts', async () => {
    const contexts = new UnpackedContexts(cacheDir(), 2);
    for (const hash of [hashA, hashB]) for (let i = 0; i < 2; i++) await buildOnce(contexts, hash);
    // A was used before B; using A again makes B the oldest, so C evicts B.
    utimesSync(path.join(contexts.dir, hashB), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    utimesSync(path.join(contexts.dir, hashA), new Date(Date.now() - 30_000), new Date(Date.now() - 30_000));
    for (let i = 0; i < 2; i++) await buildOnce(contexts, hashC);
    expect(keptIn(contexts.dir)).toEqual([hashA, hashC]);
  });

  it('remembers only the most recent built-once contexts', async () => {
    const contexts = new UnpackedContexts(cacheDir(), 2);
    const hashes = Array.from({ length: 70 }, (_, i) => i.toString(16).padStart(64, '0'));
    for (const [i, hash] of hashes.entries()) {
      await buildOnce(contexts, hash);
      const when = new Date(Date.now() - (hashes.length - i) * 1000);
      utimesSync(path.join(contexts.dir, `built-${hash}`), when, when);
    }
    await contexts.evict();
    const markers = readdirSync(contexts.dir).filter((name) => name.startsWith('built-'));
    expect(markers).toHaveLength(64);
    expect(markers).not.toContain(`built-${hashes[0]}`);
    expect(markers).toContain(`built-${hashes[69]}`);
  });

  it('keeps nothing with keep 0, and removes what an earlier setting kept', async () => {
    const dir = cacheDir();
    for (let i = 0; i < 2; i++) await buildOnce(new UnpackedContexts(dir, 2), hashA);
    expect(keptIn(dir)).toEqual([hashA]);
    const contexts = new UnpackedContexts(dir, 0);
    const { unpack, calls } = unpacker('FROM scratch\n');
    const checkedOut = await contexts.checkOut(hashA, unpack);
    expect(checkedOut.reused).toBe(false);
    expect(calls).toHaveLength(1);
    await checkedOut.release();
    expect(await settled(dir)).toEqual([]);
  });

  it('leaves nothing behind when the unpack fails, and does not count it as built', async () => {
    const contexts = new UnpackedContexts(cacheDir(), 2);
    const failing = async (into: string) => {
      writeFileSync(path.join(into, 'half'), 'x');
      throw new Error('tar: unexpected end of file');
    };
    await expect(contexts.checkOut(hashA, failing)).rejects.toThrow('unexpected end of file');
    expect(readdirSync(contexts.dir)).toEqual([]);
  });

  it('removes the copy of a build whose process died, and a removal that was interrupted', async () => {
    const contexts = new UnpackedContexts(cacheDir(), 2);
    mkdirSync(contexts.dir, { recursive: true });
    const dead = spawnSync('true').pid;
    mkdirSync(path.join(contexts.dir, `inuse-${hashB}-${dead}-0a1b`));
    mkdirSync(path.join(contexts.dir, 'trash-0a1b2c'));
    // A live process's copy (this one's) is in use and stays.
    const live = path.join(contexts.dir, `inuse-fresh-${process.pid}-0a1b`);
    mkdirSync(live);
    await buildOnce(contexts, hashA);
    expect(await settled(contexts.dir)).toEqual([`built-${hashA}`, path.basename(live)].sort());
  });

  it('removes a copy it does not keep in the background, and leaves a removal under way alone', async () => {
    const contexts = new UnpackedContexts(cacheDir(), 2);
    const big = async (into: string) => {
      for (let i = 0; i < 2000; i++) writeFileSync(path.join(into, `f${i}`), 'x');
    };
    const checkedOut = await contexts.checkOut(hashA, big);
    // Another process's removal, started a moment ago: still running, so not this build's to remove.
    const underWay = path.join(contexts.dir, `trash-${Date.now()}-0a1b2c`);
    mkdirSync(path.join(underWay, 'sub'), { recursive: true });
    await checkedOut.release();
    // Gone from its place at once; what remains is only ever a `trash-` directory on its way out.
    expect(readdirSync(contexts.dir)).not.toContain(path.basename(checkedOut.dir));
    expect(readdirSync(contexts.dir).filter((n) => !n.startsWith('trash-'))).toEqual([`built-${hashA}`]);
    // Eviction leaves a fresh `trash-` directory alone, so only the detached `rm` can remove the copy.
    const expected = [`built-${hashA}`, path.basename(underWay)];
    for (let waited = 0; readdirSync(contexts.dir).length > 2 && waited < 5000; waited += 10)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(readdirSync(contexts.dir).sort()).toEqual(expected);
    // Once it is older than any removal takes, it counts as abandoned.
    const old = new Date(Date.now() - 11 * 60_000).getTime();
    const abandoned = path.join(contexts.dir, `trash-${old}-0a1b2c`);
    mkdirSync(abandoned);
    await contexts.evict();
    expect(readdirSync(contexts.dir).sort()).toEqual(expected);
  });

  it('does not keep a context whose hash is not a sha256 (it could not name a directory safely)', async () => {
    const contexts = new UnpackedContexts(cacheDir(), 2);
    for (let i = 0; i < 2; i++) {
      const checkedOut = await contexts.checkOut('../escape', unpacker('x').unpack);
      expect(path.dirname(checkedOut.dir)).toBe(contexts.dir);
      await checkedOut.release();
    }
    expect(await settled(contexts.dir)).toEqual([]);
  });

  describe('fromEnv', () => {
    it(`keeps 2 by default, under the home's cache`, () => {
      const contexts = UnpackedContexts.fromEnv('/home/zb', {});
      expect(contexts.keep).toBe(2);
      expect(contexts.dir).toBe('/home/zb/cache/podman-contexts');
    });

    it('takes ZENBUILD_PODMAN_KEEP_CONTEXTS, and names it when it is not a number', () => {
      expect(UnpackedContexts.fromEnv('/h', { ZENBUILD_PODMAN_KEEP_CONTEXTS: '0' }).keep).toBe(0);
      expect(UnpackedContexts.fromEnv('/h', { ZENBUILD_PODMAN_KEEP_CONTEXTS: ' 5 ' }).keep).toBe(5);
      let error: unknown;
      try {
        UnpackedContexts.fromEnv('/h', { ZENBUILD_PODMAN_KEEP_CONTEXTS: 'lots' });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ZenbuildError);
      expect((error as ZenbuildError).exitCode).toBe(2);
      expect((error as Error).message).toMatch(/ZENBUILD_PODMAN_KEEP_CONTEXTS .* got `lots`/);
    });
  });
});
