import { describe, expect, it } from 'vitest';
import type { BuildEvent } from '../contracts.js';
import { ByteProgress, byteProgressEvents } from './byte-progress.js';

describe('ByteProgress', () => {
  it('reports the running count, then once more as done', () => {
    const reports: Array<[number, boolean]> = [];
    const progress = new ByteProgress((bytes, done) => reports.push([bytes, done]), 0);
    progress.add(10);
    progress.add(5);
    progress.finish();
    expect(reports).toEqual([
      [10, false],
      [15, false],
      [15, true],
    ]);
    expect(progress.bytes).toBe(15);
  });

  it('says nothing between reports closer than its interval, but always the end', () => {
    const reports: Array<[number, boolean]> = [];
    const progress = new ByteProgress((bytes, done) => reports.push([bytes, done]), 60_000);
    for (let i = 0; i < 1000; i++) progress.add(1024);
    progress.finish();
    expect(reports).toEqual([[1024 * 1000, true]]);
  });
});

describe('byteProgressEvents', () => {
  const events = (total?: number) => {
    const seen: BuildEvent[] = [];
    const run = { signal: new AbortController().signal, emit: (event: BuildEvent) => seen.push(event) };
    return { seen, listener: byteProgressEvents('img:1', run, { verb: 'written', total }) };
  };

  it('gives the total up front when known, and current === total only at the end', () => {
    const { seen, listener } = events(100);
    listener(40, false);
    listener(100, false); // all written, but not yet said to be done
    listener(100, true);
    expect(seen).toEqual([
      { type: 'progress', image: 'img:1', current: 40, total: 100, unit: 'bytes', verb: 'written' },
      { type: 'progress', image: 'img:1', current: 100, total: 100, unit: 'bytes', verb: 'written' },
    ]);
  });

  it('gives a total only at the end when it is not known before', () => {
    const { seen, listener } = events();
    listener(40, false);
    listener(90, true);
    expect(seen.map((e) => e.type === 'progress' && [e.current, e.total])).toEqual([
      [40, undefined],
      [90, 90],
    ]);
  });
});
