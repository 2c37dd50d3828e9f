import { spawnSync } from 'node:child_process';

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
