import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { Storage } from '@google-cloud/storage';
import { cancelledAfter, stalledStream } from '@zenbuild/conformance';
import { uploadIfMissing } from '@zenbuild/gcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_GCP_ENV, type FakeGcp, startFakeGcp } from '../fakes/gcp/index.js';

const BUCKET = 'contexts';
let gcp: FakeGcp;
let storage: Storage;

beforeAll(async () => {
  Object.assign(process.env, FAKE_GCP_ENV);
  gcp = await startFakeGcp({ projects: [], buckets: [BUCKET] });
  storage = new Storage({ apiEndpoint: gcp.endpoint, projectId: 'demo-project' });
});
afterAll(async () => gcp?.close());

const streamOf = (data: Buffer) => () =>
  Readable.from(
    (function* () {
      for (let at = 0; at < data.length; at += 65536) yield data.subarray(at, at + 65536);
    })(),
  );

describe('the GCS upload against the GCS fake, with the real storage client', () => {
  it('streams a 20 MiB context through one resumable upload, byte for byte, and validates the hashes', async () => {
    const data = randomBytes(20 * 1024 * 1024 + 7);
    const where = {
      bucket: BUCKET,
      object: `zenml/cloud-build-contexts/${randomBytes(8).toString('hex')}.tar.gz`,
    };
    const progress: number[] = [];
    const first = await uploadIfMissing(storage, where, streamOf(data), {
      contentType: 'application/gzip',
      signal: new AbortController().signal,
      onProgress: (bytes) => progress.push(bytes),
    });
    expect(first).toEqual({ uploaded: true, bytes: data.length });
    expect(progress.at(-1)).toBe(data.length);
    expect(gcp.gcs.object(where.bucket, where.object)?.body.equals(data)).toBe(true);
    const [downloaded] = await storage.bucket(where.bucket).file(where.object).download();
    expect(downloaded.equals(data)).toBe(true);
    expect(gcp.gcs.calls.filter((c) => c.object === where.object).map((c) => c.operation)).toEqual([
      'GetMetadata',
      'StartResumableUpload',
      'ResumableUpload',
      'Download',
    ]);
    expect(
      await uploadIfMissing(storage, where, streamOf(data), {
        contentType: 'application/gzip',
        signal: new AbortController().signal,
      }),
    ).toEqual({ uploaded: false });
  });

  it('stops within seconds when cancelled while the context is still being made, and leaves no object', async () => {
    const where = {
      bucket: BUCKET,
      object: `zenml/cloud-build-contexts/${randomBytes(8).toString('hex')}.tar.gz`,
    };
    // Some bytes, then nothing: the archive is still being written when the user presses Ctrl-C.
    const { error, ms } = await cancelledAfter(300, (signal) =>
      uploadIfMissing(storage, where, () => stalledStream(randomBytes(65536)), {
        contentType: 'application/gzip',
        signal,
      }),
    );
    expect(error).toMatchObject({ code: 'CANCELLED' });
    expect(ms).toBeLessThan(3_000);
    expect(gcp.gcs.object(where.bucket, where.object)).toBeUndefined();
  });

  it('takes simple (multipart) uploads and ranged reads, as the log follower uses them', async () => {
    const file = storage.bucket(BUCKET).file('log-123.txt');
    await file.save('line one\nline two\n', { resumable: false, contentType: 'text/plain' });
    const [rest] = await file.download({ start: 9, end: 17, validation: false });
    expect(rest.toString()).toBe('line two\n');
    const [metadata] = await file.getMetadata();
    expect(Number(metadata.size)).toBe(18);
  });
});
