import type { ByteProgressListener, RunContext } from '../contracts.js';

export type { ByteProgressListener } from '../contracts.js';

/** Progress is reported at most this often: a 500 MB context is about 2,000 chunks or 10,000 files. */
export const PROGRESS_EVERY_MS = 250;

/**
 * Counts the bytes of a long step (a context upload, a context copy) and tells a listener at most every
 * `everyMs`, and once more when the step is done, so a renderer never sees one event per chunk.
 */
export class ByteProgress {
  #bytes = 0;
  #reportedAt = performance.now();

  constructor(
    private readonly listener: ByteProgressListener | undefined,
    private readonly everyMs = PROGRESS_EVERY_MS,
  ) {}

  get bytes(): number {
    return this.#bytes;
  }

  add(bytes: number): void {
    this.#bytes += bytes;
    if (!this.listener) return;
    const now = performance.now();
    if (now - this.#reportedAt < this.everyMs) return;
    this.#reportedAt = now;
    this.listener(this.#bytes, false);
  }

  finish(): void {
    this.listener?.(this.#bytes, true);
  }
}

/**
 * A step's bytes as `progress` events of `image`: `verb` says what happens to them (`sent`, `written`),
 * `total` is given when known up front and always at the end, where `current === total`.
 */
export function byteProgressEvents(
  image: string,
  run: RunContext,
  options: { verb: string; total?: number },
): ByteProgressListener {
  return (bytes, done) => {
    // Only the end may say `current === total`: that is what renderers take for "done".
    if (!done && options.total !== undefined && bytes >= options.total) return;
    const total = done ? bytes : options.total;
    run.emit({
      type: 'progress',
      image,
      current: bytes,
      ...(total !== undefined ? { total } : {}),
      unit: 'bytes',
      verb: options.verb,
    });
  };
}
