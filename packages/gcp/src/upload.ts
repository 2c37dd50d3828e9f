import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Storage } from '@google-cloud/storage';
import { ZenbuildError } from '@zenbuild/core/backend';
import type { GcpImageBuilderConfig } from './config.js';
import { gcpError } from './errors.js';

export interface GcsLocation {
  bucket: string;
  object: string;
}

/** `gs://bucket/prefix` plus an object name below it. */
export function gcsLocation(storePath: string, ...parts: string[]): GcsLocation {
  const match = /^gs:\/\/([^/]+)\/?(.*)$/.exec(storePath);
  if (!match?.[1]) throw new ZenbuildError('INTERNAL', `Not a gs:// path: ${storePath}`);
  return { bucket: match[1], object: [match[2], ...parts].filter((p) => p && p.length > 0).join('/') };
}

const uploadCall = (where: GcsLocation) => ({
  action: 'upload the build context',
  permission: 'storage.objects.create',
  role: 'roles/storage.objectAdmin',
  resource: `gs://${where.bucket}/${where.object}`,
});

/**
 * Uploads an archive unless the object is already there (content-addressed names: there means the same
 * bytes). The body streams through a resumable upload in one request; memory does not grow with size.
 */
export async function uploadIfMissing(
  storage: Storage,
  where: GcsLocation,
  body: () => Readable,
  options: { contentType: string; signal: AbortSignal; onProgress?: (bytes: number) => void },
): Promise<{ uploaded: boolean; bytes?: number }> {
  const file = storage.bucket(where.bucket).file(where.object);
  try {
    const [exists] = await file.exists();
    if (exists) return { uploaded: false };
  } catch (error) {
    throw gcpError(error, {
      ...uploadCall(where),
      action: 'look for the build context',
      permission: 'storage.objects.get',
    });
  }
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      options.onProgress?.(bytes);
      done(null, chunk);
    },
  });
  try {
    await pipeline(
      body(),
      counter,
      file.createWriteStream({ resumable: true, contentType: options.contentType }),
      {
        signal: options.signal,
      },
    );
  } catch (error) {
    // On abort the client's resumable upload keeps its HTTP request open (nodejs-storage #2367: its
    // write stream forwards destroy() without the error, so the request is never aborted); nothing
    // more is sent on it. A cancelled CLI run does not wait for it (apps/cli/src/bin.ts).
    if (options.signal.aborted)
      throw new ZenbuildError('CANCELLED', 'The upload of the build context was cancelled.');
    throw gcpError(error, uploadCall(where));
  }
  return { uploaded: true, bytes };
}

/** The storage client of the gcp image builder's config: its key file, project and endpoint (none: ADC). */
export function storageClient(
  config: Pick<GcpImageBuilderConfig, 'credentials_file' | 'project' | 'storage_endpoint'> | undefined,
): Storage {
  return new Storage({
    ...(config?.credentials_file ? { keyFilename: config.credentials_file } : {}),
    ...(config?.project ? { projectId: config.project } : {}),
    ...(config?.storage_endpoint ? { apiEndpoint: config.storage_endpoint } : {}),
  });
}
