// Re-plan benchmark: hashing an unchanged tree again with the digest cache, against the first (cold)
// hash, and against the cheapest reference that looks at every file: `find DIR -type f -printf '%s %T@'`.
// Target: at least 10x faster than the first hash.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, median, runWorker, scratchDir, timeShell } from './lib/measure.mjs';
import { ensureTree } from './lib/tree.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const worker = path.join(here, 'replan-worker.mjs');
const floorWorker = path.join(here, 'stat-floor-worker.mjs');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
// The context benchmark's tree (20,000 files, 1 GiB), and a 10,000-file source tree of 256 MiB.
const TREES = [
  { files: 20_000, bytes: 1024 ** 3 },
  { files: 10_000, bytes: 256 * 1024 ** 2 },
];

for (const { files, bytes } of TREES) {
  const dir = ensureTree({ files, bytes, name: `tree-${files}-${bytes}` });
  timeShell(`tar -cf - -C ${dir} . > /dev/null`); // warm the page cache for every run alike

  const cold = [];
  const coldOneThread = [];
  const warm = [];
  const find = [];
  const floor = [];
  for (let round = 0; round < ROUNDS; round++) {
    coldOneThread.push(runWorker(worker, [dir, scratchDir('zenbuild-bench-home-'), '1']));
    const home = scratchDir('zenbuild-bench-home-');
    cold.push(runWorker(worker, [dir, home]));
    warm.push(runWorker(worker, [dir, home]));
    find.push(timeShell(`find ${dir} -type f -printf '%s %T@\\n' > /dev/null`).ms);
    floor.push(runWorker(floorWorker, [dir]).ms);
  }
  if (new Set([...cold, ...coldOneThread, ...warm].map((r) => r.hash)).size !== 1)
    throw new Error('cold and warm hashes differ');
  const coldMs = median(cold.map((r) => r.ms));
  const warmMs = median(warm.map((r) => r.ms));
  console.log(
    `\n${cold[0].files} files, ${fmt(cold[0].bytes / 1024 ** 2, 0)} MiB; in-process time, median of ${ROUNDS} rounds`,
  );
  console.log('| run | ms | files read | x faster than first hash |');
  console.log('|---|---:|---:|---:|');
  console.log(`| first hash (empty cache) | ${fmt(coldMs, 0)} | ${cold[0].files - cold[0].cached} | 1.0 |`);
  const oneThreadMs = median(coldOneThread.map((r) => r.ms));
  console.log(
    `| first hash on one thread (\`threads: 1\`, as before session 9) | ${fmt(oneThreadMs, 0)} | ${coldOneThread[0].files} | ${fmt(coldMs / oneThreadMs, 1)} |`,
  );
  console.log(
    `| re-plan, unchanged tree (cache) | ${fmt(warmMs, 0)} | ${warm[0].files - warm[0].cached} | ${fmt(coldMs / warmMs, 1)} |`,
  );
  console.log(
    `| node: readdir + lstat, nothing else (floor of any walker on node's fs) | ${fmt(median(floor), 0)} | 0 | ${fmt(coldMs / median(floor), 1)} |`,
  );
  console.log(
    `| find -printf size+mtime (reference stat walk) | ${fmt(median(find), 0)} | 0 | ${fmt(coldMs / median(find), 1)} |`,
  );
  const phase = (name) => fmt(median(warm.map((r) => r.phases[name])), 0);
  console.log(
    `\nre-plan phases (median ms): cache load ${phase('open')}, walk ${phase('walk')}, lookups + hash ${phase('hash')}`,
  );
  console.log(
    `\ntarget >= 10x: ${fmt(coldMs / warmMs, 1)}x ${coldMs / warmMs >= 10 ? 'MET' : 'MISSED'} (against the one-thread first hash: ${fmt(oneThreadMs / warmMs, 1)}x); re-plan under a second: ${fmt(warmMs, 0)} ms ${warmMs < 1000 ? 'MET' : 'MISSED'}`,
  );
}
