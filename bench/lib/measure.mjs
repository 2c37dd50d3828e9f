import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const scratch = [];
// Removed when the benchmark ends, failed or not: a build benchmark's projects, contexts and homes are
// gigabytes.
process.on('exit', () => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

/** A new directory under the temp dir, removed when the process exits. */
export function scratchDir(prefix) {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Runs a shell command and returns its wall time in ms. */
export function timeShell(command) {
  const start = process.hrtime.bigint();
  const result = spawnSync('bash', ['-c', command], { stdio: ['ignore', 'pipe', 'inherit'] });
  if (result.status !== 0) throw new Error(`${command} failed with ${result.status}`);
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, stdout: result.stdout.toString() };
}

/** Runs a node script in its own process, so its peak RSS is its own; it prints one JSON line. */
export function runWorker(script, args) {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 20,
  });
  if (result.status !== 0) throw new Error(`${script} ${args.join(' ')} failed with ${result.status}`);
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  return { wallMs, ...JSON.parse(result.stdout.toString().trim().split('\n').pop()) };
}

export const mib = (bytes) => bytes / 1024 / 1024;
export const fmt = (n, digits = 1) => n.toFixed(digits);
