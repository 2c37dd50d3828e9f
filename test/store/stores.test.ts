import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { Storage } from '@google-cloud/storage';
import { s3Objects } from '@zenbuild/aws';
import { buildStoreConformance, type StoreHarness } from '@zenbuild/conformance';
import { directoryObjects, LocalBuildStore, type ObjectStorage, type StoreProblem } from '@zenbuild/core';
import { indexKey, ObjectBuildStore, recordKey } from '@zenbuild/core/backend';
import { gcsObjects } from '@zenbuild/gcp';
import S3rver from 's3rver';
import { afterAll, beforeAll } from 'vitest';
import { FAKE_AWS_ENV, type FakeAws, startFakeAws } from '../fakes/aws/index.js';
import { FAKE_GCP_ENV, type FakeGcp, startFakeGcp } from '../fakes/gcp/index.js';

// One suite, every store: this machine's directory, a shared directory, S3 (the fake written from the
// API reference, and s3rver, an independent implementation) and GCS.

let aws: FakeAws;
let gcp: FakeGcp;
let s3rver: S3rver;
let s3rverEndpoint: string;
let bucket = 0;

beforeAll(async () => {
  Object.assign(process.env, FAKE_GCP_ENV);
  aws = await startFakeAws({ projects: [], buckets: [] });
  // Small pages, so that every list goes through the continuation tokens.
  aws.s3.listPageSize = 3;
  gcp = await startFakeGcp({ projects: [], buckets: [] });
  gcp.gcs.listPageSize = 3;
  s3rver = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: mkdtempSync(path.join(tmpdir(), 's3rver-')),
    configureBuckets: Array.from({ length: 12 }, (_, i) => ({ name: `records-${i}`, configs: [] })),
  });
  s3rverEndpoint = `http://127.0.0.1:${((await s3rver.run()) as { port: number }).port}`;
});
afterAll(async () => {
  await aws?.close();
  await gcp?.close();
  await s3rver?.close();
});

/** An object build store on `objects`, with raw writes where it reads. */
function objectHarness(objects: ObjectStorage): StoreHarness {
  const problems: StoreProblem[] = [];
  return {
    store: new ObjectBuildStore(objects, { onProblem: (p) => problems.push(p) }),
    problems,
    putRecord: async (id, text) => void (await objects.create(recordKey(id), Buffer.from(text))),
    putIndexEntry: async (query, id, text) =>
      void (await objects.create(indexKey(query, id), Buffer.from(text))),
  };
}

const s3 = (endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string }) =>
  new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials });

buildStoreConformance('local', async () => {
  const home = mkdtempSync(path.join(tmpdir(), 'zenbuild-store-'));
  const problems: StoreProblem[] = [];
  const store = new LocalBuildStore(home, { onProblem: (p) => problems.push(p) });
  await store.prepare();
  return {
    store,
    problems,
    putRecord: async (id, text) => writeFileSync(path.join(home, 'builds', `${id}.json`), text),
  };
});

buildStoreConformance('shared directory', async () =>
  objectHarness(directoryObjects(mkdtempSync(path.join(tmpdir(), 'zenbuild-shared-')))),
);

buildStoreConformance('s3 (fake)', async () => {
  const name = `records-${bucket++}`;
  aws.s3.createBucket(name);
  return objectHarness(
    s3Objects(
      `s3://${name}/zenml`,
      s3(aws.endpoint, {
        accessKeyId: FAKE_AWS_ENV.AWS_ACCESS_KEY_ID,
        secretAccessKey: FAKE_AWS_ENV.AWS_SECRET_ACCESS_KEY,
      }),
    ),
  );
});

// s3rver ignores If-None-Match on PUT, so it cannot refuse an overwrite: that one case is left out.
let s3rverBucket = 0;
buildStoreConformance(
  's3 (s3rver)',
  async () =>
    objectHarness(
      s3Objects(
        `s3://records-${s3rverBucket++}/zenml`,
        s3(s3rverEndpoint, { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }),
      ),
    ),
  { conditionalCreate: false },
);

buildStoreConformance('gcs (fake)', async () => {
  const name = `records-${bucket++}`;
  gcp.gcs.createBucket(name);
  const storage = new Storage({ apiEndpoint: gcp.endpoint, projectId: 'demo-project' });
  return objectHarness(gcsObjects(`gs://${name}/zenml`, storage));
});
