import { Readable } from 'node:stream';

/** A stream that sends `head`, then nothing: an archive still being written, or a slow disk. */
export function stalledStream(head: Buffer): Readable {
  const stream = new Readable({ read() {} });
  stream.push(head);
  return stream;
}

/** Runs `work` with a signal that aborts after `afterMs`, as Ctrl-C would: its error, and how long it ran. */
export async function cancelledAfter(
  afterMs: number,
  work: (signal: AbortSignal) => Promise<unknown>,
): Promise<{ error: unknown; ms: number }> {
  const controller = new AbortController();
  const started = Date.now();
  const timer = setTimeout(() => controller.abort(), afterMs);
  try {
    await work(controller.signal);
    return { error: undefined, ms: Date.now() - started };
  } catch (error) {
    return { error, ms: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
}
