import type { RunContext } from '../contracts.js';

/** How many of the last output lines an error keeps, for `details.stderrTail`. */
export const TAIL_LINES = 30;

/**
 * Forwards every non-empty line of an engine subprocess as a log event of `image`, keeping the last
 * TAIL_LINES in `tail` for the error message if the command fails. Engines that shell out share it.
 */
export async function forwardOutputLines(
  lines: AsyncIterable<unknown>,
  image: string,
  run: RunContext,
  tail: string[],
): Promise<void> {
  for await (const line of lines) {
    const text = String(line);
    if (!text.trim()) continue;
    tail.push(text);
    if (tail.length > TAIL_LINES) tail.shift();
    run.emit({ type: 'log', image, stream: 'stdout', line: text });
  }
}

/** The last few lines of command output, on one line, for messages. */
export function lastLines(text: string, count = 3): string {
  return text.trim().split('\n').slice(-count).join(' ').trim() || 'no output';
}
