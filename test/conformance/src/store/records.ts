import { newBuildId, type PipelineBuildRecord } from '@zenbuild/core';
import { expect, it } from 'vitest';
import { failure } from '../helpers.js';
import type { StoreSuite } from './suite.js';

let sequence = 0;

/** A record as a build saves it, of a pipeline on a stack with a checksum. */
export function sampleRecord(
  fields: Partial<PipelineBuildRecord> = {},
  when = new Date(Date.UTC(2026, 10, 1, 12, 0, 0, sequence++ % 1000)),
): PipelineBuildRecord {
  return {
    schemaVersion: 1,
    id: newBuildId(when),
    pipeline: 'training',
    stack: 'team',
    registry: 'registry.example.com/ml',
    checksum: 'a'.repeat(64),
    reused: false,
    createdAt: when.toISOString(),
    durationMs: 1234,
    containsCode: false,
    images: {
      orchestrator: {
        image: `registry.example.com/ml/training@sha256:${'b'.repeat(64)}`,
        digest: `sha256:${'b'.repeat(64)}`,
        tag: 'training-orchestrator',
        dockerfile: 'FROM python:3.11-slim\n',
        requirements: null,
        settingsChecksum: 'c'.repeat(64),
        containsCode: false,
      },
    },
    zenbuildVersion: '0.1.0',
    createdBy: { host: 'ci-runner', user: 'runner', ci: { provider: 'github-actions', runId: '42' } },
    ...fields,
  };
}

/** Saving, finding by pipeline, stack and checksum, getting by id or prefix, deleting. */
export function storeRecordsCases({ harness, conditionalCreate }: StoreSuite): void {
  it('saves a record whole and finds it by pipeline, stack and checksum, and by id', async () => {
    const { store } = await harness();
    const record = sampleRecord();
    await store.save(record);
    const query = { pipeline: record.pipeline, stack: record.stack, checksum: record.checksum };
    expect(await store.find(query)).toEqual([record]);
    expect(await store.get(record.id)).toEqual(record);
    // Another pipeline, stack or checksum finds nothing.
    expect(await store.find({ ...query, pipeline: 'other' })).toEqual([]);
    expect(await store.find({ ...query, stack: 'other' })).toEqual([]);
    expect(await store.find({ ...query, checksum: 'd'.repeat(64) })).toEqual([]);
    expect(await store.get(sampleRecord().id)).toBeUndefined();
  });

  it('finds the newest of several builds with the same checksum first', async () => {
    const { store } = await harness();
    const older = sampleRecord({}, new Date('2026-11-01T10:00:00Z'));
    const newer = sampleRecord({}, new Date('2026-11-02T10:00:00Z'));
    await store.save(older);
    await store.save(newer);
    const found = await store.find({ pipeline: 'training', stack: 'team', checksum: 'a'.repeat(64) });
    expect(found[0]?.id).toBe(newer.id);
    expect((await store.list()).map((r) => r.id)).toEqual([newer.id, older.id]);
    expect((await store.list({ pipeline: 'other' })).length).toBe(0);
  });

  it('gets a record by a unique prefix of its id, and refuses a prefix of two ids', async () => {
    const { store } = await harness();
    const when = new Date('2026-11-03T08:00:00Z');
    const a = sampleRecord({}, when);
    const b = sampleRecord({}, when);
    await store.save(a);
    await store.save(b);
    const shared = a.id.slice(0, 19); // the timestamp both ids start with
    expect(b.id.startsWith(shared)).toBe(true);
    const error = await failure(store.get(shared));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toContain(`prefix \`${shared}\` matches 2 builds`);
    expect((await store.get(a.id.slice(0, 24)))?.id).toBe(a.id);
  });

  if (conditionalCreate) {
    it('never overwrites a record: a second save of the same id is refused and the first stays', async () => {
      const { store } = await harness();
      const record = sampleRecord();
      await store.save(record);
      const error = await failure(store.save({ ...record, pipeline: 'overwritten' }));
      expect(error.code).toBe('INVALID_INPUT');
      expect(error.message).toMatch(/never overwritten/);
      expect((await store.get(record.id))?.pipeline).toBe('training');
    });
  }

  it('deletes a record so that neither find nor get sees it', async () => {
    const { store } = await harness();
    const keep = sampleRecord();
    const drop = sampleRecord();
    await store.save(keep);
    await store.save(drop);
    await store.delete(drop.id);
    expect(await store.get(drop.id)).toBeUndefined();
    expect((await store.list()).map((r) => r.id)).toEqual([keep.id]);
    const found = await store.find({ pipeline: 'training', stack: 'team', checksum: 'a'.repeat(64) });
    expect(found.map((r) => r.id)).toEqual([keep.id]);
  });
}
