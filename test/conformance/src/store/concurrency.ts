import { expect, it } from 'vitest';
import { sampleRecord } from './records.js';
import type { StoreSuite } from './suite.js';

/** Writers at once, as builds on several machines finish together. */
export function storeConcurrencyCases({ harness }: StoreSuite): void {
  it('loses no record when 20 writers save at once', async () => {
    const { store } = await harness();
    const records = Array.from({ length: 20 }, (_, i) =>
      sampleRecord({ pipeline: `p${i % 4}`, checksum: String(i % 4).repeat(64) }),
    );
    await Promise.all(records.map((record) => store.save(record)));
    const listed = await store.list();
    expect(listed.map((r) => r.id).sort()).toEqual(records.map((r) => r.id).sort());
    for (const record of records) expect(await store.get(record.id)).toEqual(record);
    for (let i = 0; i < 4; i++) {
      const query = { pipeline: `p${i}`, stack: 'team', checksum: String(i).repeat(64) };
      const newest = records.filter((r) => r.pipeline === `p${i}`).sort((a, b) => (a.id < b.id ? 1 : -1))[0];
      expect((await store.find(query))[0]?.id).toBe(newest?.id);
    }
  });
}
