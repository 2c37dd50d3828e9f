import { existsSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const OLD = new Date(Date.now() - 24 * 3600 * 1000);

/** A small seeded PRNG (mulberry32): the same tree on every machine. */
function random(seed) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A source tree of `files` files and about `bytes` bytes, mixed sizes like an ML repository: many small
 * source files, some medium data files, a few large ones. Generated once under the temp dir and reused
 * while its parameters match.
 */
export function ensureTree({ files, bytes, name }) {
  const dir = path.join(tmpdir(), 'zenbuild-bench', name);
  const marker = path.join(dir, '.bench-tree.json');
  const spec = JSON.stringify({ files, bytes, version: 2 });
  if (existsSync(marker) && readFileSync(marker, 'utf8') === spec) return dir;
  rmSync(dir, { recursive: true, force: true });
  const rand = random(42);
  const large = Math.max(1, Math.round(files * 0.005));
  const medium = Math.round(files * 0.095);
  const small = files - large - medium;
  // Small files at their natural size; medium ones share 30% of the budget; large ones the rest.
  const sizes = Array.from({ length: small }, () => 256 + Math.floor(rand() * 16 * 1024));
  const smallTotal = sizes.reduce((a, b) => a + b, 0);
  const mediumAverage = Math.max(4096, Math.floor(((bytes - smallTotal) * 0.3) / Math.max(1, medium)));
  for (let i = 0; i < medium; i++) sizes.push(Math.floor(mediumAverage * (0.5 + rand())));
  const used = sizes.reduce((a, b) => a + b, 0);
  const perLarge = Math.max(4096, Math.floor((bytes - used) / large));
  for (let i = 0; i < large; i++) sizes.push(perLarge);
  const block = Buffer.alloc(4 * 1024 * 1024);
  for (let i = 0; i < block.length; i += 4) block.writeUInt32LE((rand() * 2 ** 32) >>> 0, i);
  sizes.forEach((size, i) => {
    const sub = path.join(dir, `pkg${i % 40}`, `mod${i % 13}`);
    mkdirSync(sub, { recursive: true });
    const offset = Math.floor(rand() * (block.length / 2));
    const content = Buffer.alloc(size);
    for (let at = 0; at < size; at += block.length / 2)
      block.copy(content, at, offset, offset + Math.min(block.length / 2, size - at));
    content.writeUInt32LE(i, 0); // every file differs
    const file = path.join(sub, `file${i}.${size > 1_000_000 ? 'bin' : 'py'}`);
    writeFileSync(file, content);
    // As a checkout from yesterday: digest caches skip files modified in the last seconds.
    utimesSync(file, OLD, OLD);
  });
  writeFileSync(marker, spec);
  return dir;
}
