import type { Readable } from 'node:stream';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ZenbuildError } from '@zenbuild/core/backend';
import { awsError } from './errors.js';

/** An object in S3 as `s3://bucket/key` splits into. */
export interface S3Location {
  bucket: string;
  key: string;
}

/** `s3://bucket/prefix` plus a key below it. */
export function s3Location(storePath: string, ...parts: string[]): S3Location {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(storePath);
  if (!match?.[1]) throw new ZenbuildError('INTERNAL', `Not an s3:// path: ${storePath}`);
  const key = [match[2], ...parts].filter((p) => p && p.length > 0).join('/');
  return { bucket: match[1], key };
}

export interface UploadResult {
  uploaded: boolean;
  bytes?: number;
}

/** Parts of 8 MiB, two in flight: memory stays near 16 MiB whatever the size of the archive. */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 2;

/**
 * Uploads an archive unless the object is already there. Content-addressed keys make "already there"
 * mean "the same bytes", so a second build of an unchanged context uploads nothing. The body is
 * streamed in parts (lib-storage), never held whole in memory.
 */
export async function uploadIfMissing(
  s3: S3Client,
  where: S3Location,
  body: () => Readable,
  options: { contentType: string; signal: AbortSignal; onProgress?: (bytes: number) => void },
): Promise<UploadResult> {
  const resource = `s3://${where.bucket}/${where.key}`;
  if (await objectExists(s3, where, resource)) return { uploaded: false };
  const upload = new Upload({
    client: s3,
    params: { Bucket: where.bucket, Key: where.key, Body: body(), ContentType: options.contentType },
    partSize: PART_SIZE,
    queueSize: QUEUE_SIZE,
    leavePartsOnError: false,
  });
  let bytes = 0;
  upload.on('httpUploadProgress', (progress) => {
    if (progress.loaded !== undefined) {
      bytes = progress.loaded;
      options.onProgress?.(bytes);
    }
  });
  const abort = () => void upload.abort().catch(() => {});
  options.signal.addEventListener('abort', abort, { once: true });
  try {
    await upload.done();
  } catch (error) {
    if (options.signal.aborted)
      throw new ZenbuildError('CANCELLED', 'The upload of the build context was cancelled.');
    throw awsError(error, { action: 's3:PutObject', resource });
  } finally {
    options.signal.removeEventListener('abort', abort);
  }
  return { uploaded: true, bytes };
}

async function objectExists(s3: S3Client, where: S3Location, resource: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: where.bucket, Key: where.key }));
    return true;
  } catch (error) {
    const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
    // HEAD has no body: a missing object (or bucket) is a bare 404. A missing bucket fails the upload.
    if (e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404) return false;
    throw awsError(error, { action: 's3:GetObject', resource });
  }
}
