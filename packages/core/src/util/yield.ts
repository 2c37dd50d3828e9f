/**
 * Counts the bytes a synchronous loop has handled (the context's walk, hash, archive and copy use sync
 * fs calls: see walk.ts) and says when to yield to the event loop, so timers and signals (Ctrl-C) still
 * run during a long one.
 */
export class EventLoopYield {
  #since = 0;

  constructor(readonly everyBytes = 32 * 1024 * 1024) {}

  /** Adds `bytes`; true once `everyBytes` have passed since the last time it said so. */
  due(bytes: number): boolean {
    this.#since += bytes;
    if (this.#since <= this.everyBytes) return false;
    this.#since = 0;
    return true;
  }
}

/** Lets timers, I/O and signals run before the loop goes on. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
