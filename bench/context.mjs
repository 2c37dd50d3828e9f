// Context benchmark: zenbuild's walk + content hash + deterministic tar, against
// `tar -cf - DIR | sha256sum` on the same tree in the same run. Targets: >= 0.8x the reference's
// throughput; peak RSS under 256 MiB whatever the tree size.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, median, mib, runWorker, timeShell } from './lib/measure.mjs';
import { ensureTree } from './lib/tree.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const worker = path.join(here, 'context-worker.mjs');
const FILES = Number(process.env.BENCH_FILES ?? 20_000);
const BYTES = Number(process.env.BENCH_BYTES ?? 1024 ** 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

console.log(
  `context: generating ${FILES} files, ${fmt(mib(BYTES), 0)} MiB (once, cached in the temp dir)...`,
);
const dir = ensureTree({ files: FILES, bytes: BYTES, name: `tree-${FILES}-${BYTES}` });

// Warm the page cache the same way for everyone: both sides then read from memory.
timeShell(`tar -cf - -C ${dir} . > /dev/null`);

const rows = [];
const reference = [];
const ours = { tar: [], 'tar+sha256': [], 'tar.gz': [], zip: [] };
let sample;
for (let round = 0; round < ROUNDS; round++) {
  reference.push(timeShell(`tar -cf - -C ${dir} . | sha256sum`).ms);
  for (const [name, args] of [
    ['tar', ['tar']],
    ['tar+sha256', ['tar', 'sha']],
    ['tar.gz', ['tar.gz']],
    ['zip', ['zip']],
  ]) {
    const result = runWorker(worker, [dir, ...args]);
    ours[name].push(result);
    sample = result;
  }
}
const gzipReference = timeShell(`tar -czf - -C ${dir} . | sha256sum`).ms;

const refMs = median(reference);
const throughput = (ms) => mib(sample.bytes) / (ms / 1000);
rows.push(['tar -cf - DIR | sha256sum (reference)', refMs, throughput(refMs), 1, '-']);
for (const [name, results] of Object.entries(ours)) {
  const ms = median(results.map((r) => r.wallMs));
  const rss = Math.max(...results.map((r) => r.maxRssMiB));
  rows.push([`zenbuild walk+hash+${name}`, ms, throughput(ms), refMs / ms, fmt(rss, 0)]);
}
rows.push([
  'tar -czf - DIR | sha256sum (gzip reference)',
  gzipReference,
  throughput(gzipReference),
  refMs / gzipReference,
  '-',
]);

console.log(
  `\n${sample.files} files, ${fmt(mib(sample.bytes), 0)} MiB, median of ${ROUNDS} rounds (process start included)`,
);
console.log('| run | wall ms | MiB/s | x reference | peak RSS MiB |');
console.log('|---|---:|---:|---:|---:|');
for (const [name, ms, mibs, ratio, rss] of rows)
  console.log(`| ${name} | ${fmt(ms, 0)} | ${fmt(mibs, 0)} | ${fmt(ratio, 2)} | ${rss} |`);
const tarRatio = refMs / median(ours.tar.map((r) => r.wallMs));
const maxRss = Math.max(
  ...Object.values(ours)
    .flat()
    .map((r) => r.maxRssMiB),
);
console.log(
  `\ntarget >= 0.80x: ${fmt(tarRatio, 2)}x ${tarRatio >= 0.8 ? 'MET' : 'MISSED'}; peak RSS < 256 MiB: ${fmt(maxRss, 0)} MiB ${maxRss < 256 ? 'MET' : 'MISSED'}`,
);
