import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { uploadIfMissing } from '@zenbuild/aws';
import { cancelledAfter, stalledStream } from '@zenbuild/conformance';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_AWS_ENV, type FakeAws, startFakeAws } from '../fakes/aws/index.js';

/**
 * The upload path checked against two S3s: our wire-level fake (which also decodes aws-chunked bodies
 * and verifies checksums) and s3rver, an independent S3 implementation from npm.
 */
const BUCKET = 'contexts';
let s3rver: S3rver;
let fake: FakeAws;
const endpoints: Record<string, string> = {};

beforeAll(async () => {
  s3rver = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: mkdtempSync(path.join(tmpdir(), 's3rver-')),
    configureBuckets: [{ name: BUCKET, configs: [] }],
  });
  const address = (await s3rver.run()) as { port: number };
  endpoints.s3rver = `http://127.0.0.1:${address.port}`;
  fake = await startFakeAws({ projects: [], buckets: [BUCKET] });
  endpoints.fake = fake.endpoint;
});

afterAll(async () => {
  await s3rver?.close();
  await fake?.close();
});

const client = (endpoint: string) =>
  new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: {
      // s3rver accepts its own default key pair only.
      accessKeyId: endpoint === endpoints.s3rver ? 'S3RVER' : FAKE_AWS_ENV.AWS_ACCESS_KEY_ID,
      secretAccessKey: endpoint === endpoints.s3rver ? 'S3RVER' : FAKE_AWS_ENV.AWS_SECRET_ACCESS_KEY,
    },
  });

/** A stream in 64 KiB pieces, as an archive arrives: the uploader never sees the whole body at once. */
function streamOf(data: Buffer): () => Readable {
  return () =>
    Readable.from(
      (function* () {
        for (let at = 0; at < data.length; at += 65536) yield data.subarray(at, at + 65536);
      })(),
    );
}

describe.each(['fake', 's3rver'])('uploadIfMissing against %s', (which) => {
  for (const [label, size] of [
    ['a small context in one PutObject', 300_000],
    ['a 20 MiB context in parts', 20 * 1024 * 1024 + 123],
  ] as const) {
    it(`uploads ${label} byte for byte, then skips it`, async () => {
      const s3 = client(endpoints[which] as string);
      const data = randomBytes(size);
      const where = {
        bucket: BUCKET,
        key: `zenml/code-build-contexts/${randomBytes(8).toString('hex')}.zip`,
      };
      const signal = new AbortController().signal;
      const progress: number[] = [];
      const first = await uploadIfMissing(s3, where, streamOf(data), {
        contentType: 'application/zip',
        signal,
        onProgress: (bytes) => progress.push(bytes),
      });
      expect(first).toEqual({ uploaded: true, bytes: size });
      expect(progress.at(-1)).toBe(size);
      const stored = await s3.send(new GetObjectCommand({ Bucket: where.bucket, Key: where.key }));
      expect(
        Buffer.from(
          await (stored.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
        ).equals(data),
      ).toBe(true);
      expect(
        await uploadIfMissing(s3, where, streamOf(data), { contentType: 'application/zip', signal }),
      ).toEqual({
        uploaded: false,
      });
    });
  }
});

describe.each(['fake', 's3rver'])('a cancelled upload against %s', (which) => {
  it('stops within seconds while the context is still being made, and leaves no object', async () => {
    const s3 = client(endpoints[which] as string);
    const where = { bucket: BUCKET, key: `zenml/code-build-contexts/${randomBytes(8).toString('hex')}.zip` };
    // Some bytes, then nothing: the archive is still being written when the user presses Ctrl-C.
    const { error, ms } = await cancelledAfter(300, (signal) =>
      uploadIfMissing(s3, where, () => stalledStream(randomBytes(65536)), {
        contentType: 'application/zip',
        signal,
      }),
    );
    expect(error).toMatchObject({ code: 'CANCELLED' });
    expect(ms).toBeLessThan(3_000);
    await expect(s3.send(new HeadObjectCommand({ Bucket: where.bucket, Key: where.key }))).rejects.toThrow();
  });
});

describe('uploadIfMissing', () => {
  it('uses parts for a large context (the fake records the calls)', async () => {
    const s3 = client(fake.endpoint);
    const key = `zenml/code-build-contexts/${randomBytes(8).toString('hex')}.zip`;
    await uploadIfMissing(s3, { bucket: BUCKET, key }, streamOf(randomBytes(17 * 1024 * 1024)), {
      contentType: 'application/zip',
      signal: new AbortController().signal,
    });
    const ops = fake.s3.calls.filter((c) => c.key === key).map((c) => c.operation);
    expect(ops).toEqual([
      'HeadObject',
      'CreateMultipartUpload',
      'UploadPart',
      'UploadPart',
      'UploadPart',
      'CompleteMultipartUpload',
    ]);
  });
});
