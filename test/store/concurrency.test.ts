import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LocalBuildStore } from '@zenbuild/core';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

const PROCESSES = 8;
const RECORDS_EACH = 25;
const checksumA = 'a'.repeat(64);
const checksumB = 'b'.repeat(64);

/** A separate Node process that saves RECORDS_EACH records into the store at `home`, all at once. */
const writer = `
import { LocalBuildStore, newBuildId } from ${JSON.stringify(pathToFileURL(path.join(repoRoot, 'packages/core/dist/index.js')).href)};
const [home, worker] = process.argv.slice(1);
const store = new LocalBuildStore(home);
await Promise.all(Array.from({ length: ${RECORDS_EACH} }, (_, i) => store.save({
  id: newBuildId(), pipeline: 'p' + worker, stack: 's', registry: null,
  checksum: i % 2 ? '${checksumA}' : '${checksumB}', reused: false,
  createdAt: new Date().toISOString(), durationMs: i, containsCode: false,
  images: { orchestrator: { image: 'zenml:w' + worker + '-' + i, digest: null, tag: null, dockerfile: 'FROM x\\n'.repeat(2000),
    requirements: null, settingsChecksum: 'x', containsCode: false } },
  zenbuildVersion: 'test',
})));
`;

function runWriter(home: string, worker: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', writer, home, String(worker)], {
      stdio: 'inherit',
    });
    child.on('error', reject);
    child.on('exit', resolve);
  });
}

describe('the build store under concurrent writers', () => {
  it(`keeps every record when ${PROCESSES} processes write ${RECORDS_EACH} each at the same time`, async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'zenbuild-store-'));
    const codes = await Promise.all(
      Array.from({ length: PROCESSES }, (_, worker) => runWriter(home, worker)),
    );
    expect(codes).toEqual(Array(PROCESSES).fill(0));

    const store = new LocalBuildStore(home);
    const records = await store.list();
    expect(records).toHaveLength(PROCESSES * RECORDS_EACH);
    expect(new Set(records.map((r) => r.id)).size).toBe(PROCESSES * RECORDS_EACH);
    // Every record is whole: its big field made it to disk in full.
    for (const r of records) expect(r.images.orchestrator?.dockerfile).toHaveLength('FROM x\n'.length * 2000);
    const withA = records.filter((r) => r.checksum === checksumA).map((r) => r.id);
    expect(withA).toHaveLength(PROCESSES * Math.floor(RECORDS_EACH / 2));
    expect((await store.findByChecksum(checksumA)).map((r) => r.id)).toEqual(withA);
    expect((await store.list({ pipeline: 'p3' })).every((r) => r.pipeline === 'p3')).toBe(true);
    // No temp file is left behind.
    expect(readdirSync(path.join(home, 'builds')).filter((f) => !f.endsWith('.json'))).toEqual([]);
  });

  it('lists newest first and finds nothing for an unknown id or checksum', async () => {
    const store = new LocalBuildStore(mkdtempSync(path.join(tmpdir(), 'zenbuild-store-')));
    expect(await store.list()).toEqual([]);
    expect(await store.get('20990101T000000000Z-00000000')).toBeUndefined();
    expect(await store.get('../../etc/passwd')).toBeUndefined();
    expect(await store.findByChecksum('c'.repeat(64))).toEqual([]);
  });
});
