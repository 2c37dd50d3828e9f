import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer, readBody } from '../http.js';
import { FakeCloudBuild, type FakeCloudBuildOptions } from './cloudbuild.js';
import { FakeGcs } from './gcs.js';

export interface FakeGcp {
  /** Cloud Build's endpoint for `api_endpoint` (REST over plain HTTP). */
  endpoint: string;
  gcs: FakeGcs;
  cloudbuild: FakeCloudBuild;
  close(): Promise<void>;
}

export interface FakeGcpOptions extends Omit<FakeCloudBuildOptions, 'gcs'> {
  buckets?: string[];
}

/** Cloud Build (REST) and the GCS JSON API on one loopback port. */
export async function startFakeGcp(options: FakeGcpOptions): Promise<FakeGcp> {
  const gcs = new FakeGcs();
  for (const bucket of options.buckets ?? []) gcs.createBucket(bucket);
  const cloudbuild = new FakeCloudBuild({ ...options, gcs });
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    if (!body) return;
    try {
      if (await gcs.handle(req, res, body)) return;
      if (cloudbuild.handle(req, res, body)) return;
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: { code: 404, message: `no fake for ${req.method} ${req.url}`, status: 'NOT_FOUND' },
        }),
      );
    } catch (error) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 500, message: (error as Error).stack, status: 'INTERNAL' } }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    gcs,
    cloudbuild,
    close: async () => {
      await cloudbuild.settled();
      await closeServer(server);
    },
  };
}
