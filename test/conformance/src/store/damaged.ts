import { newBuildId } from '@zenbuild/core';
import { expect, it } from 'vitest';
import { sampleRecord } from './records.js';
import type { StoreSuite } from './suite.js';

/** Entries someone else wrote or damaged: skipped, each with one warning, never a false reuse. */
export function storeDamagedCases({ harness }: StoreSuite): void {
  it('skips a corrupt record with one warning that names it, and reads the others', async () => {
    const { store, problems, putRecord } = await harness();
    const good = sampleRecord();
    await store.save(good);
    const bad = newBuildId(new Date('2026-11-04T00:00:00Z'));
    await putRecord(bad, '{"id": "truncated');
    expect((await store.list()).map((r) => r.id)).toEqual([good.id]);
    expect(await store.get(bad)).toBeUndefined();
    expect(problems).toHaveLength(1);
    expect(problems[0]?.file).toContain(bad);
    expect(problems[0]?.message).toMatch(/not JSON/);
  });

  it('skips a record a newer zenbuild wrote with a notice, without calling it damaged', async () => {
    const { store, problems, putRecord } = await harness();
    const future = sampleRecord({ schemaVersion: 99, zenbuildVersion: '9.0.0' });
    await putRecord(future.id, JSON.stringify({ ...future, images: 'a new shape' }));
    expect(await store.list()).toEqual([]);
    expect(problems).toEqual([
      expect.objectContaining({
        kind: 'newer',
        message: expect.stringMatching(/zenbuild 9\.0\.0 in record format 99/),
      }),
    ]);
  });

  it('skips a garbage index entry: no false hit, one warning', async () => {
    const { store, problems, putIndexEntry } = await harness();
    if (!putIndexEntry) return expect(problems).toEqual([]); // its index holds no entries of its own
    const query = { pipeline: 'training', stack: 'team', checksum: 'e'.repeat(64) };
    const id = newBuildId(new Date('2026-11-05T00:00:00Z'));
    await putIndexEntry(query, id, 'garbage');
    expect(await store.find(query)).toEqual([]);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.file).toContain(id);
    // A real record for the query is found past it.
    const record = sampleRecord({ checksum: 'e'.repeat(64) }, new Date('2026-11-04T00:00:00Z'));
    await store.save(record);
    expect((await store.find(query)).map((r) => r.id)).toEqual([record.id]);
  });
}
