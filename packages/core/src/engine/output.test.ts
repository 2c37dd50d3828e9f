import { describe, expect, it } from 'vitest';
import { LogTail, TAIL_LINES } from './output.js';

describe('LogTail', () => {
  it('keeps only the last lines of a long build, in order', () => {
    const tail = new LogTail();
    for (let i = 1; i <= 10_000; i++) tail.push(`line ${i}`);
    expect(tail.lines).toHaveLength(TAIL_LINES);
    expect(tail.lines[0]).toBe(`line ${10_000 - TAIL_LINES + 1}`);
    expect(tail.lines.at(-1)).toBe('line 10000');
    expect(tail.text.split('\n')).toEqual(tail.lines);
  });

  it('writes the block a failure message ends with, and nothing when there was no output', () => {
    const tail = new LogTail(2);
    expect(tail.block).toBe('');
    for (const line of ['a', 'b', 'c']) tail.push(line);
    expect(tail.block).toBe('\nLast log lines:\n  b\n  c');
  });
});
