import { readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { project } from '../__fixtures__/pipeline.js';
import { DigestCache } from './digest-cache.js';
import { hashContext } from './hash.js';
import { walkContext } from './walk.js';

/** A tree whose files are old enough to be remembered (see the racy-write rule). */
function oldTree(files: Record<string, string>): string {
  const root = project(files);
  const old = new Date(Date.now() - 60_000);
  for (const file of Object.keys(files)) utimesSync(path.join(root, file), old, old);
  return root;
}

async function hashWith(home: string, root: string) {
  const cache = await DigestCache.open(home, root);
  const result = await hashContext((await walkContext({ root })).entries, { cache });
  await cache.save();
  return result;
}

const cacheFile = (home: string) => {
  const dir = path.join(home, 'cache', 'digests');
  return path.join(dir, readdirSync(dir)[0] as string);
};

describe('the digest cache file', () => {
  it('keeps what it loaded and what was added when saved again', async () => {
    const root = oldTree({ 'a.txt': 'a', 'b.txt': 'b', constructor: 'c', 'dir/ünïcode.py': 'u' });
    const home = project();
    const cold = await hashWith(home, root);
    expect(cold.stats.cached).toBe(0);

    writeFileSync(path.join(root, 'b.txt'), 'B');
    utimesSync(path.join(root, 'b.txt'), new Date(0), new Date(Date.now() - 30_000));
    const changed = await hashWith(home, root);
    expect(changed.stats).toMatchObject({ files: 4, cached: 3 });

    const third = await hashWith(home, root);
    expect(third.stats).toMatchObject({ files: 4, cached: 4 });
    expect(third.hash).toBe(changed.hash);
  });

  it('still finds what it saved, in the same process', async () => {
    const root = oldTree({ 'a.txt': 'a' });
    const cache = await DigestCache.open(project(), root);
    const walked = await walkContext({ root });
    await hashContext(walked.entries, { cache });
    await cache.save();
    expect((await hashContext(walked.entries, { cache })).stats.cached).toBe(1);
  });

  it('drops the files deleted since, and keeps files this run did not look at while they exist', async () => {
    const root = oldTree({ 'a.py': 'a', 'b.py': 'b', 'notes/big.csv': 'x,y' });
    const home = project();
    await hashWith(home, root);
    const paths = () =>
      readFileSync(cacheFile(home))
        .toString('latin1')
        .match(/[a-z/]+\.(py|csv)/g);
    expect(paths()).toEqual(['a.py', 'b.py', 'notes/big.csv']);

    // Another context of the same root leaves notes/ out; b.py is deleted and c.py is new.
    rmSync(path.join(root, 'b.py'));
    writeFileSync(path.join(root, '.dockerignore'), 'notes\n');
    writeFileSync(path.join(root, 'c.py'), 'c');
    utimesSync(path.join(root, 'c.py'), new Date(0), new Date(Date.now() - 60_000));
    const cache = await DigestCache.open(home, root);
    const result = await hashContext((await walkContext({ root })).entries, { cache });
    await cache.save();
    expect(result.stats).toMatchObject({ files: 2, cached: 1 });
    // Saved in the walk's order.
    expect(paths()).toEqual(['a.py', 'c.py', 'notes/big.csv']);
  });

  it('finds every path whatever the order of the lookups: a new file in between, then in reverse', async () => {
    const root = oldTree({ 'a.py': 'a', 'c.py': 'c', 'd/e.py': 'e', 'f.py': 'f' });
    const home = project();
    await hashWith(home, root);
    writeFileSync(path.join(root, 'b.py'), 'b');
    const walked = await walkContext({ root });
    const files = walked.entries.filter((entry) => entry.source?.kind === 'fs');
    const lookUp = (cache: DigestCache, entries: typeof files) =>
      entries.map((entry) =>
        entry.source?.kind === 'fs' ? cache.get(entry.path, entry.source.fingerprint) : '',
      );

    // b.py is not in the cache: the lookups after it must still find theirs.
    const inOrder = lookUp(await DigestCache.open(home, root), files);
    expect(inOrder.map((digest) => digest !== undefined)).toEqual([true, false, true, true, true]);
    const reversed = lookUp(await DigestCache.open(home, root), [...files].reverse());
    expect(reversed).toEqual([...inOrder].reverse());
  });

  it('is not written again when nothing new was hashed', async () => {
    const root = oldTree({ 'a.txt': 'a' });
    const home = project();
    await hashWith(home, root);
    const { ino } = statSync(cacheFile(home));
    await hashWith(home, root);
    // Saving replaces the file (temp file + rename), which would give it a new inode.
    expect(statSync(cacheFile(home)).ino).toBe(ino);
  });

  it.each([
    ['truncated', (data: Buffer) => data.subarray(0, data.length - 7)],
    ['of another format', () => Buffer.from('{"version":3,"files":{}}')],
    ['empty', () => Buffer.alloc(0)],
    [
      'garbage after the magic',
      (data: Buffer) => Buffer.concat([data.subarray(0, 6), Buffer.from([255, 255])]),
    ],
  ])('starts empty when the file is %s, and repairs it on the next save', async (_name, damage) => {
    const root = oldTree({ 'a.txt': 'a', 'b.txt': 'b' });
    const home = project();
    const cold = await hashWith(home, root);
    writeFileSync(cacheFile(home), damage(readFileSync(cacheFile(home))));

    const afterDamage = await hashWith(home, root);
    expect(afterDamage.stats.cached).toBe(0);
    expect(afterDamage.hash).toBe(cold.hash);
    expect((await hashWith(home, root)).stats.cached).toBe(2);
  });

  it('ignores a file written for another root (a copied home, a moved project)', async () => {
    const first = oldTree({ 'a.txt': 'a' });
    const second = oldTree({ 'a.txt': 'a' });
    const home = project();
    await hashWith(home, first);
    const firstFile = cacheFile(home);
    await hashWith(home, second);
    const secondFile = readdirSync(path.dirname(firstFile))
      .map((name) => path.join(path.dirname(firstFile), name))
      .find((file) => file !== firstFile) as string;
    // second's cache now holds first's records: same relative path, but the root inside does not match.
    writeFileSync(secondFile, readFileSync(firstFile));
    expect((await hashWith(home, second)).stats.cached).toBe(0);
  });
});
