import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ZenbuildError } from '@zenbuild/core';
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

describe('UnpackedContexts', () => {
  it('unpacks a context once and hands the same files to the next build of that context', async () => {
    const contexts = new UnpackedContexts(cacheDir(), 2);
    const { unpack, calls } = unpacker('FROM scratch\n');

    const first = await contexts.checkOut(hashA, unpack);
    expect(first.reused).toBe(false);
    expect(readFileSync(path.join(first.dir, 'Dockerfile'), 'utf8')).toBe('FROM scratch\n');
    await first.release();
    expect(readdirSync(contexts.dir)).toEqual([hashA]);

    const second = await contexts.checkOut(hashA, unpack);
    expect(second.reused).toBe(true);
    expect(calls).toHaveLength(1);
    expect(readFileSync(path.join(second.dir, 'Dockerfile'), 'utf8')).toBe('FROM scratch\n');
    // While a build has it, the context is under a private name: nothing else can take or evict it.
    expect(readdirSync(contexts.dir)).toEqual([path.basename(second.dir)]);
    await second.release();
  });

  it('gives concurrent builds of one context their own copies and keeps one of them', async () => {
    const contexts = new UnpackedContexts(cacheDir(), 2);
    const { unpack, calls } = unpacker('FROM scratch\n');
    const [one, two] = await Promise.all([
      contexts.checkOut(hashA, unpack),
      contexts.checkOut(hashA, unpack),
    ]);
    expect(one?.dir).not.toBe(two?.dir);
    expect(calls).toHaveLength(2);
    await Promise.all([one?.release(), two?.release()]);
    expect(readdirSync(contexts.dir)).toEqual([hashA]);
    expect(readFileSync(path.join(contexts.dir, hashA, 'Dockerfile'), 'utf8')).toBe('FROM scratch\n');
  });

  it('keeps only the most recently used contexts', async () => {
    const contexts = new UnpackedContexts(cacheDir(), 2);
    for (const hash of [hashA, hashB]) await (await contexts.checkOut(hash, unpacker(hash).unpack)).release();
    // A was used before B; using A again makes B the oldest, so C evicts B.
    utimesSync(path.join(contexts.dir, hashB), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    utimesSync(path.join(contexts.dir, hashA), new Date(Date.now() - 30_000), new Date(Date.now() - 30_000));
    await (await contexts.checkOut(hashC, unpacker(hashC).unpack)).release();
    expect(readdirSync(contexts.dir).sort()).toEqual([hashA, hashC]);
  });

  it('keeps nothing with keep 0, and removes what an earlier setting kept', async () => {
    const dir = cacheDir();
    await (await new UnpackedContexts(dir, 2).checkOut(hashA, unpacker('a').unpack)).release();
    const contexts = new UnpackedContexts(dir, 0);
    const { unpack, calls } = unpacker('FROM scratch\n');
    const checkedOut = await contexts.checkOut(hashA, unpack);
    expect(checkedOut.reused).toBe(false);
    expect(calls).toHaveLength(1);
    await checkedOut.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('leaves nothing behind when the unpack fails', async () => {
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
    await (await contexts.checkOut(hashA, unpacker('a').unpack)).release();
    expect(readdirSync(contexts.dir).sort()).toEqual([hashA, path.basename(live)].sort());
  });

  it('does not keep a context whose hash is not a sha256 (it could not name a directory safely)', async () => {
    const contexts = new UnpackedContexts(cacheDir(), 2);
    const checkedOut = await contexts.checkOut('../escape', unpacker('x').unpack);
    expect(path.dirname(checkedOut.dir)).toBe(contexts.dir);
    await checkedOut.release();
    expect(readdirSync(contexts.dir)).toEqual([]);
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
