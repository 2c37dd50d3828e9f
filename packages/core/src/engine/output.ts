import type { RunContext } from '../contracts.js';

/** How many of the last output lines an error keeps, for `details.stderrTail`. */
export const TAIL_LINES = 30;

/**
 * The last lines of a build's output, for the message when it fails: bounded, so a build that prints
 * for an hour holds no more than `limit` lines. Every engine and remote builder keeps its tail here.
 */
export class LogTail {
  readonly #lines: string[] = [];

  constructor(readonly limit = TAIL_LINES) {}

  push(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > this.limit) this.#lines.shift();
  }

  get lines(): readonly string[] {
    return this.#lines;
  }

  /** The lines joined, for `details.stderrTail`. */
  get text(): string {
    return this.#lines.join('\n');
  }

  /** The lines indented under a heading, for a failure message; empty when there are none. */
  get block(): string {
    return this.#lines.length > 0 ? `\nLast log lines:\n${this.#lines.map((l) => `  ${l}`).join('\n')}` : '';
  }
}

/**
 * Forwards every non-empty line of an engine subprocess as a log event of `image`, keeping the last ones
 * in `tail` for the error message if the command fails. Engines that shell out share it.
 */
export async function forwardOutputLines(
  lines: AsyncIterable<unknown>,
  image: string,
  run: RunContext,
  tail: LogTail,
): Promise<void> {
  for await (const line of lines) {
    const text = String(line);
    if (!text.trim()) continue;
    tail.push(text);
    run.emit({ type: 'log', image, stream: 'stdout', line: text });
  }
}

/** Whether an engine's push or pull output says the registry refused the credentials (or their absence). */
export function refusedByRegistry(output: string): boolean {
  return /unauthorized|authentication required|no basic auth|denied/i.test(output);
}

/** The last few lines of command output, on one line, for messages. */
export function lastLines(text: string, count = 3): string {
  return text.trim().split('\n').slice(-count).join(' ').trim() || 'no output';
}
