import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { project } from '../__fixtures__/pipeline.js';
import { hashContext } from './hash.js';
import { digestFiles, hashThreadCount, PARALLEL_HASH_MIN_BYTES } from './hash-threads.js';
import { walkContext } from './walk.js';

const MiB = 1024 * 1024;
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Files of mixed sizes, some empty, one larger than a read chunk. */
function tree(count: number): string {
  const files: Record<string, Uint8Array> = {};
  for (let i = 0; i < count; i++) files[`d${i % 7}/f${i}.bin`] = randomBytes((i * 7919) % (64 * 1024));
  files['big.bin'] = randomBytes(5 * MiB);
  return project(files);
}

describe('hashing on several threads', () => {
  it('gives every file the digest and the context the hash that one thread gives', async () => {
    const root = tree(300);
    const one = (await walkContext({ root })).entries;
    const three = (await walkContext({ root })).entries;
    const sequential = await hashContext(one, { threads: 1 });
    const parallel = await hashContext(three, { threads: 3 });
    expect(parallel.hash).toBe(sequential.hash);
    expect(parallel.stats).toEqual(sequential.stats);
    expect(three.map((e) => e.digest)).toEqual(one.map((e) => e.digest));
    const big = three.find((e) => e.path === 'big.bin');
    expect(big?.digest).toBe(sha256(path.join(root, 'big.bin')));
  });

  it('hashes on the main thread, once each, the files the workers refused', async () => {
    const root = tree(100);
    // mtimeMs 0 is no file's mtime: every worker refuses every file it takes, as for a changed file.
    const files = (await walkContext({ root })).entries
      .filter((e) => e.type === 'file')
      .map((e) => ({ absolute: path.join(root, e.path), size: e.size, mtimeMs: 0 }));
    const onMain: number[] = [];
    const digests = await digestFiles(files, 3, (i) => {
      onMain.push(i);
      return sha256((files[i] as (typeof files)[number]).absolute);
    });
    expect(digests).toEqual(files.map((f) => sha256(f.absolute)));
    expect(onMain.sort((a, b) => a - b)).toEqual(files.map((_, i) => i));
  });

  it('shares the files between the main thread and the workers, each hashed once', async () => {
    const root = tree(100);
    const files = (await walkContext({ root })).entries.flatMap((e) =>
      e.source?.kind === 'fs'
        ? [{ absolute: e.source.absolute, size: e.size, mtimeMs: e.source.fingerprint.mtimeMs }]
        : [],
    );
    const onMain: number[] = [];
    // The main thread is slow on purpose (5 ms a file): workers, however late they start, take some.
    const digests = await digestFiles(files, 3, (i) => {
      onMain.push(i);
      const until = performance.now() + 5;
      while (performance.now() < until);
      return sha256((files[i] as (typeof files)[number]).absolute);
    });
    expect(digests).toEqual(files.map((f) => sha256(f.absolute)));
    expect(onMain.length).toBeLessThan(files.length);
    expect(new Set(onMain).size).toBe(onMain.length);
  });

  it('refuses a file that changed after the walk, whichever thread reads it', async () => {
    const root = tree(200);
    const { entries } = await walkContext({ root });
    appendFileSync(path.join(root, 'd3/f101.bin'), 'edited');
    await expect(hashContext(entries, { threads: 3 })).rejects.toThrow(
      /d3\/f101\.bin changed while the build context was being hashed/,
    );
  });

  it('uses one thread below 64 MiB to read, and at most four, one per core', () => {
    expect(hashThreadCount(0)).toBe(1);
    expect(hashThreadCount(PARALLEL_HASH_MIN_BYTES - 1)).toBe(1);
    expect(hashThreadCount(2 * PARALLEL_HASH_MIN_BYTES)).toBe(Math.min(2, availableParallelism()));
    expect(hashThreadCount(1024 * PARALLEL_HASH_MIN_BYTES)).toBe(Math.min(4, availableParallelism()));
    expect(hashThreadCount(1024 * PARALLEL_HASH_MIN_BYTES, 1)).toBe(1);
    expect(hashThreadCount(0, 3)).toBe(3);
  });
});
