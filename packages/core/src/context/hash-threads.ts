import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { EventLoopYield, yieldToEventLoop } from '../util/yield.js';

/** Below this many bytes to read, starting a worker (about 30 ms) costs more than it saves. */
export const PARALLEL_HASH_MIN_BYTES = 64 * 1024 * 1024;
/**
 * At most this many workers beside the main thread: each costs 10–15 MB of memory, and four threads
 * hashing (about 1 GB/s each with SHA extensions) already outrun most disks.
 */
const MAX_WORKERS = 3;

/** A file to hash, as walked: the worker refuses it if its size or mtime is not these any more. */
export interface FileToHash {
  absolute: string;
  size: number;
  mtimeMs: number;
}

/**
 * How many threads (the main one included) should hash `bytes` of files: one per 64 MiB, at most one
 * per core and four in all. `requested` overrides it (1 hashes on the main thread only).
 */
export function hashThreadCount(bytes: number, requested?: number): number {
  if (requested !== undefined) return Math.max(1, Math.floor(requested));
  if (bytes < PARALLEL_HASH_MIN_BYTES) return 1;
  const byBytes = Math.ceil(bytes / PARALLEL_HASH_MIN_BYTES);
  return Math.max(1, Math.min(availableParallelism(), MAX_WORKERS + 1, byBytes));
}

/**
 * A file's state in the shared table once a worker hashed it (its digest is in the table). Otherwise
 * it is 0: not taken, not finished, or refused (changed, unreadable), and the main thread hashes it
 * again, which gives the exact error the sequential hash gives.
 */
const HASHED = 1;

/**
 * The workers' code, run from source text (CommonJS, node's built-ins only), so that it needs no file
 * next to the bundle, the compiled package or the sources the tests run. It takes the next file from
 * the shared counter until none is left, as the main thread does, and writes each raw digest into the
 * shared table. The checks are digestFile's (hash.ts): the bytes read and the size and mtime after.
 */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { openSync, readSync, fstatSync, closeSync } = require('node:fs');
const { paths, sizes, mtimes, next, states, digests } = workerData;
const buffer = Buffer.allocUnsafe(4 * 1024 * 1024);
for (;;) {
  const i = Atomics.add(next, 0, 1);
  if (i >= paths.length) break;
  let fd;
  try {
    fd = openSync(paths[i], 'r');
    const hash = createHash('sha256');
    let total = 0;
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
      total += n;
    }
    const after = fstatSync(fd);
    if (total === sizes[i] && after.size === sizes[i] && after.mtimeMs === mtimes[i]) {
      digests.set(hash.digest(), i * 32);
      Atomics.store(states, i, ${HASHED});
    }
  } catch {
    // Left to do: the main thread hashes it again and reports why it cannot.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
`;

/**
 * The sha256 of each file, hashed on `threads` threads: the main thread (with `digestHere`, yielding
 * to the event loop every 32 MiB) and `threads - 1` workers, all taking the next file from one shared
 * counter, so a large file does not leave the others idle. With one thread, the main thread hashes
 * them all in order. A file no worker hashed, for any reason (a worker that failed to start or crashed
 * included), is hashed by `digestHere` at the end, whose error (a file changed while it was hashed) is
 * the one to report.
 */
export async function digestFiles(
  files: FileToHash[],
  threads: number,
  digestHere: (index: number) => string,
): Promise<string[]> {
  const count = files.length;
  const next = new Int32Array(new SharedArrayBuffer(4));
  const states = new Int32Array(new SharedArrayBuffer(4 * Math.max(count, 1)));
  const digests = new Uint8Array(new SharedArrayBuffer(32 * Math.max(count, 1)));
  const out: Array<string | undefined> = new Array(count);
  const workers = threads > 1 ? await startWorkers(threads - 1, files, { next, states, digests }) : [];
  try {
    const pause = new EventLoopYield();
    for (;;) {
      const i = Atomics.add(next, 0, 1);
      if (i >= count) break;
      out[i] = digestHere(i);
      if (pause.due((files[i] as FileToHash).size + 4096)) await yieldToEventLoop();
    }
    await Promise.all(workers.map(({ finished }) => finished));
    for (let i = 0; i < count; i++) {
      if (out[i] !== undefined) continue;
      out[i] =
        Atomics.load(states, i) === HASHED
          ? Buffer.from(digests.buffer, i * 32, 32).toString('hex')
          : digestHere(i);
    }
    return out as string[];
  } finally {
    // On an error here, the workers are stopped: no file is left being read behind a failed build.
    Atomics.store(next, 0, count);
    await Promise.all(workers.map(({ worker }) => worker.terminate()));
  }
}

/** Up to `count` hash workers on the shared tables; each with a promise that settles when it ends. */
async function startWorkers(
  count: number,
  files: FileToHash[],
  shared: { next: Int32Array; states: Int32Array; digests: Uint8Array },
): Promise<Array<{ worker: Worker; finished: Promise<void> }>> {
  const { Worker } = await import('node:worker_threads');
  const workerData = {
    paths: files.map((f) => f.absolute),
    sizes: Float64Array.from(files, (f) => f.size),
    mtimes: Float64Array.from(files, (f) => f.mtimeMs),
    ...shared,
  };
  const started: Array<{ worker: Worker; finished: Promise<void> }> = [];
  for (let w = 0; w < count; w++) {
    try {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData });
      // Settles however the worker ends (an error is followed by 'exit'): what it did not finish is
      // hashed on the main thread afterwards.
      worker.on('error', () => {});
      started.push({ worker, finished: new Promise((resolve) => worker.once('exit', () => resolve())) });
    } catch {
      break; // no more threads to be had: the ones started (and the main one) share the files
    }
  }
  return started;
}
