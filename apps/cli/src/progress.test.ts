import { PassThrough } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import type { BuildEvent } from '@zenbuild/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Io } from './io.js';
import { createProgress, describeProgress, liveRow } from './progress.js';

const MiB = 1024 * 1024;

/** The renderer's stderr as text, with everything it printed. */
async function rendered(mode: 'plain' | 'json' | 'quiet', events: BuildEvent[]): Promise<string> {
  const stderr = new PassThrough();
  let text = '';
  stderr.on('data', (chunk) => (text += chunk));
  const progress = await createProgress(
    new Io(new PassThrough(), stderr),
    mode,
    new Map([['img:1', 'trainer']]),
  );
  for (const event of events) progress.emit(event);
  progress.done();
  return text;
}

const upload = (sent: number[], total: number): BuildEvent[] => [
  ...sent.map((current) => ({ type: 'progress', image: 'img:1', current, unit: 'bytes' }) as const),
  { type: 'progress', image: 'img:1', current: total, total, unit: 'bytes' },
];

describe('progress of a context upload', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reads as the bytes sent (or written), and says when all of them are', () => {
    expect(describeProgress({ type: 'progress', image: 'i', current: 48 * MiB, unit: 'bytes' })).toBe(
      'context: 48.0 MiB sent',
    );
    expect(
      describeProgress({ type: 'progress', image: 'i', current: 48 * MiB, total: 96 * MiB, unit: 'bytes' }),
    ).toBe('context: 48.0 MiB of 96.0 MiB sent');
    expect(describeProgress({ type: 'progress', image: 'i', current: 900, total: 900, unit: 'bytes' })).toBe(
      'context: 900 B sent, done',
    );
    const written = {
      type: 'progress',
      image: 'i',
      total: 96 * MiB,
      unit: 'bytes',
      verb: 'written',
    } as const;
    expect(describeProgress({ ...written, current: 48 * MiB })).toBe('context: 48.0 MiB of 96.0 MiB written');
    expect(describeProgress({ ...written, current: 96 * MiB })).toBe('context: 96.0 MiB written, done');
    expect(describeProgress({ type: 'progress', image: 'i', current: 3, total: 8, unit: 'steps' })).toBe(
      '3/8 steps',
    );
  });

  it('plain output prints a short upload only when it is done, under the build’s label', async () => {
    const text = await rendered('plain', upload([MiB, 2 * MiB, 3 * MiB], 100 * MiB));
    expect(text).toBe('[trainer] context: 100.0 MiB sent, done\n');
  });

  it('plain output prints a long upload every 2 s, then its end', async () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    const stderr = new PassThrough();
    let text = '';
    stderr.on('data', (chunk) => (text += chunk));
    const progress = await createProgress(new Io(new PassThrough(), stderr), 'plain', new Map());
    const sent = (current: number, total?: number) =>
      progress.emit({ type: 'progress', image: 'img:1', current, total, unit: 'bytes' });
    // Milliseconds since the previous event, and the bytes sent by then.
    for (const [afterMs, current] of [
      [0, MiB],
      [1500, 10 * MiB],
      [600, 20 * MiB],
      [900, 30 * MiB],
      [1200, 40 * MiB],
    ] as const) {
      vi.advanceTimersByTime(afterMs);
      sent(current);
    }
    sent(50 * MiB, 50 * MiB);
    expect(text.trim().split('\n')).toEqual([
      '[img:1] context: 20.0 MiB sent',
      '[img:1] context: 40.0 MiB sent',
      '[img:1] context: 50.0 MiB sent, done',
    ]);
  });

  it('a terminal without a width gets plain lines, not an empty live view', async () => {
    const terminal = Object.assign(new PassThrough(), { isTTY: true, columns: 0 });
    let text = '';
    terminal.on('data', (chunk) => (text += chunk));
    // Only isTTY and columns are read to choose the view.
    const stderr = terminal as unknown as typeof process.stderr;
    const progress = await createProgress(new Io(new PassThrough(), terminal), 'auto', new Map(), stderr);
    progress.emit({ type: 'log', image: 'img:1', stream: 'stdout', line: 'Step 1/2 : FROM busybox' });
    progress.done();
    expect(text).toBe('[img:1] Step 1/2 : FROM busybox\n');
  });

  it('a live view row fits the terminal, its end cut with …', () => {
    const long = `Step 3/4 : ENV ${'ZENML_LOGGING_COLORS_DISABLED="False" '.repeat(4)}`;
    const row = liveRow('trainer', 'build', long, 60);
    expect(row).toBe(`… ${'trainer'.padEnd(24)} build  Step 3/4 : ENV ZENML_LOG…`);
    expect(Array.from(row)).toHaveLength(59);
    expect(liveRow('trainer', 'done', 'Successfully tagged x', 60)).toBe(
      `✔ ${'trainer'.padEnd(24)} done   Successfully tagged x`,
    );
    expect(liveRow('名前'.repeat(40), 'build', '', 30)).toHaveLength(29);
  });

  it('a live view writes no line wider than the terminal, for every build', async () => {
    const terminal = Object.assign(new PassThrough(), { isTTY: true, columns: 60, rows: 20 });
    let text = '';
    terminal.on('data', (chunk) => (text += chunk));
    const stderr = terminal as unknown as typeof process.stderr;
    const labels = new Map([
      ['img:1', 'trainer'],
      ['img:2', 'evaluator'],
    ]);
    const progress = await createProgress(new Io(new PassThrough(), terminal), 'auto', labels, stderr);
    for (const image of ['img:1', 'img:2']) progress.emit({ type: 'phase', image, phase: 'build' });
    const long = `Step 3/4 : ENV ${'ZENML_LOGGING_COLORS_DISABLED="False" '.repeat(4)}`;
    progress.emit({ type: 'log', image: 'img:1', stream: 'stdout', line: long });
    progress.emit({ type: 'log', image: 'img:2', stream: 'stdout', line: long });
    progress.done();
    const written = stripVTControlCharacters(text);
    expect(written).toContain('Step 3/4 : ENV ZENML_LOG…');
    expect(written).not.toContain('GING_COLORS'); // what is past the width was never written, not wrapped
    expect(written).toContain('evaluator');
    for (const line of written.split('\n')) expect(Array.from(line).length).toBeLessThan(60);
  });

  it('json output has every event, quiet none', async () => {
    const events = upload([MiB, 2 * MiB], 3 * MiB);
    const lines = (await rendered('json', events))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map(({ current, total }) => [current, total])).toEqual([
      [MiB, undefined],
      [2 * MiB, undefined],
      [3 * MiB, 3 * MiB],
    ]);
    expect(await rendered('quiet', events)).toBe('');
  });
});
