import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CRC32C } from '@google-cloud/storage';

export interface GcsObject {
  body: Buffer;
  contentType: string;
  generation: number;
  updated: Date;
}

export interface GcsCall {
  operation: string;
  bucket: string;
  object: string;
}

/**
 * The slice of the GCS JSON API the Node client uses for contexts and logs: object metadata (exists,
 * getMetadata), media download with ranges, simple (multipart) and resumable uploads, delete. Replies
 * carry real md5 and crc32c values, which the client validates after an upload.
 */
export class FakeGcs {
  readonly buckets = new Map<string, Map<string, GcsObject>>();
  readonly calls: GcsCall[] = [];
  /** The most objects one list page holds (GCS: 1000); tests lower it to make the client page. */
  listPageSize = 1000;
  readonly #sessions = new Map<
    string,
    { bucket: string; object: string; contentType: string; chunks: Buffer[] }
  >();
  #generation = 1;
  /** While true, upload data is taken in but never answered: an upload still under way. */
  holdUploads = false;

  createBucket(name: string): void {
    if (!this.buckets.has(name)) this.buckets.set(name, new Map());
  }

  object(bucket: string, name: string): GcsObject | undefined {
    return this.buckets.get(bucket)?.get(name);
  }

  /** Writes or appends to an object, as Cloud Build does with a build's log. */
  append(bucket: string, name: string, data: string): void {
    const objects = this.buckets.get(bucket);
    if (!objects) return;
    const current = objects.get(name);
    objects.set(name, {
      body: Buffer.concat([current?.body ?? Buffer.alloc(0), Buffer.from(data)]),
      contentType: 'text/plain',
      generation: this.#generation++,
      updated: new Date(),
    });
  }

  /** Handles `/storage/v1/...`, `/upload/storage/v1/...` and `/download/storage/v1/...`; false if not GCS. */
  async handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<boolean> {
    const url = new URL(req.url ?? '/', 'http://gcs');
    const path = url.pathname;
    const q = url.searchParams;
    const method = req.method ?? 'GET';

    const upload = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(path);
    if (upload) {
      const bucket = decodeURIComponent(upload[1] as string);
      const objects = this.buckets.get(bucket);
      const uploadId = q.get('upload_id');
      if (uploadId) return this.#resumableData(req, res, body, uploadId);
      if (!objects) return jsonError(res, 404, 'The specified bucket does not exist.', 'notFound');
      if (q.get('uploadType') === 'resumable') {
        const name =
          q.get('name') ?? (JSON.parse(body.toString('utf8') || '{}') as { name?: string }).name ?? '';
        this.calls.push({ operation: 'StartResumableUpload', bucket, object: name });
        if (!this.#preconditionHolds(objects.get(name), q)) return conditionNotMet(res);
        const id = randomUUID();
        const meta = body.length > 0 ? (JSON.parse(body.toString('utf8')) as { contentType?: string }) : {};
        this.#sessions.set(id, {
          bucket,
          object: name,
          contentType:
            meta.contentType ?? String(req.headers['x-upload-content-type'] ?? 'application/octet-stream'),
          chunks: [],
        });
        const host = req.headers.host ?? '127.0.0.1';
        res.writeHead(200, {
          location: `http://${host}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=resumable&upload_id=${id}`,
        });
        res.end();
        return true;
      }
      if (q.get('uploadType') === 'multipart') {
        const name = q.get('name') ?? '';
        this.calls.push({ operation: 'SimpleUpload', bucket, object: name });
        const parts = multipartParts(String(req.headers['content-type'] ?? ''), body);
        const meta = JSON.parse(parts[0]?.toString('utf8') ?? '{}') as {
          name?: string;
          contentType?: string;
        };
        if (!this.#preconditionHolds(objects.get(name || meta.name || ''), q)) return conditionNotMet(res);
        const object = this.#store(
          bucket,
          name || meta.name || '',
          parts[1] ?? Buffer.alloc(0),
          meta.contentType,
        );
        return json(res, 200, resource(bucket, name || meta.name || '', object));
      }
      return jsonError(res, 400, `uploadType ${q.get('uploadType')} is not supported by the fake`, 'invalid');
    }

    const listPath = /^\/storage\/v1\/b\/([^/]+)\/o$/.exec(path);
    if (listPath && method === 'GET') {
      // objects.list: lexicographic order, `prefix`, pages of `maxResults` (at most 1000) joined by
      // `nextPageToken`, as the JSON API reference describes.
      const bucket = decodeURIComponent(listPath[1] as string);
      const objects = this.buckets.get(bucket);
      if (!objects) return jsonError(res, 404, 'The specified bucket does not exist.', 'notFound');
      this.calls.push({ operation: 'List', bucket, object: q.get('prefix') ?? '' });
      const prefix = q.get('prefix') ?? '';
      const size = Math.min(Number(q.get('maxResults') ?? 1000) || 1000, 1000, this.listPageSize);
      const after = q.get('pageToken')
        ? Buffer.from(q.get('pageToken') as string, 'base64url').toString()
        : '';
      const names = [...objects.keys()].filter((n) => n.startsWith(prefix) && n > after).sort();
      const page = names.slice(0, size);
      const more = names.length > size;
      return json(res, 200, {
        kind: 'storage#objects',
        ...(page.length > 0
          ? { items: page.map((n) => resource(bucket, n, objects.get(n) as GcsObject)) }
          : {}),
        ...(more ? { nextPageToken: Buffer.from(page.at(-1) as string).toString('base64url') } : {}),
      });
    }

    const objectPath = /^\/(?:download\/)?storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(path);
    if (objectPath) {
      const bucket = decodeURIComponent(objectPath[1] as string);
      const name = decodeURIComponent(objectPath[2] as string);
      const objects = this.buckets.get(bucket);
      if (!objects) return jsonError(res, 404, 'The specified bucket does not exist.', 'notFound');
      const object = objects.get(name);
      const media = q.get('alt') === 'media';
      if (method === 'GET')
        this.calls.push({ operation: media ? 'Download' : 'GetMetadata', bucket, object: name });
      if (method === 'DELETE') {
        this.calls.push({ operation: 'Delete', bucket, object: name });
        // objects.delete of a name with no live object is 404 (JSON API reference), unlike S3.
        if (!objects.has(name)) return jsonError(res, 404, `No such object: ${bucket}/${name}`, 'notFound');
        objects.delete(name);
        res.writeHead(204);
        res.end();
        return true;
      }
      if (!object) return jsonError(res, 404, `No such object: ${bucket}/${name}`, 'notFound');
      if (media) {
        const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ''));
        const start = range ? Number(range[1]) : 0;
        const end = range?.[2] ? Number(range[2]) : object.body.length - 1;
        if (start >= object.body.length) {
          res.writeHead(416);
          res.end();
          return true;
        }
        const slice = object.body.subarray(start, end + 1);
        res.writeHead(range ? 206 : 200, {
          'content-type': object.contentType,
          'content-length': slice.length,
          'x-goog-hash': `crc32c=${crc32c(object.body)},md5=${md5(object.body)}`,
          'x-goog-generation': String(object.generation),
          ...(range
            ? { 'content-range': `bytes ${start}-${start + slice.length - 1}/${object.body.length}` }
            : {}),
        });
        res.end(slice);
        return true;
      }
      return json(res, 200, resource(bucket, name, object));
    }
    return false;
  }

  #resumableData(req: IncomingMessage, res: ServerResponse, body: Buffer, id: string): boolean {
    const session = this.#sessions.get(id);
    if (!session) return jsonError(res, 404, 'No such upload session', 'notFound');
    if (this.holdUploads) {
      this.calls.push({ operation: 'HeldUpload', bucket: session.bucket, object: session.object });
      return true;
    }
    const range = String(req.headers['content-range'] ?? '');
    if (body.length > 0) session.chunks.push(body);
    const received = session.chunks.reduce((n, c) => n + c.length, 0);
    // `bytes A-B/TOTAL`, `bytes A-B/*` (more to come), `bytes */TOTAL` (status query or empty final).
    const total = /\/(\d+)$/.exec(range)?.[1];
    const final =
      total !== undefined
        ? received >= Number(total)
        : !/\/\*$/.test(range) || /^bytes 0-\*\/\*$/.test(range);
    if (!final) {
      res.writeHead(308, received > 0 ? { range: `bytes=0-${received - 1}` } : {});
      res.end();
      return true;
    }
    this.calls.push({ operation: 'ResumableUpload', bucket: session.bucket, object: session.object });
    const object = this.#store(
      session.bucket,
      session.object,
      Buffer.concat(session.chunks),
      session.contentType,
    );
    this.#sessions.delete(id);
    return json(res, 200, resource(session.bucket, session.object, object));
  }

  /**
   * `ifGenerationMatch` (Cloud Storage JSON API, objects.insert): 0 means "only if no live object has the
   * name"; else that generation. A precondition that fails answers 412 conditionNotMet.
   */
  #preconditionHolds(existing: GcsObject | undefined, q: URLSearchParams): boolean {
    const wanted = q.get('ifGenerationMatch');
    if (wanted === null) return true;
    if (wanted === '0') return existing === undefined;
    return existing !== undefined && String(existing.generation) === wanted;
  }

  #store(bucket: string, name: string, data: Buffer, contentType?: string): GcsObject {
    const object: GcsObject = {
      body: data,
      contentType: contentType ?? 'application/octet-stream',
      generation: this.#generation++,
      updated: new Date(),
    };
    this.buckets.get(bucket)?.set(name, object);
    return object;
  }
}

const md5 = (data: Buffer) => createHash('md5').update(data).digest('base64');

function crc32c(data: Buffer): string {
  const crc = new CRC32C();
  crc.update(data);
  return crc.toString();
}

function resource(bucket: string, name: string, object: GcsObject) {
  return {
    kind: 'storage#object',
    id: `${bucket}/${name}/${object.generation}`,
    name,
    bucket,
    generation: String(object.generation),
    metageneration: '1',
    contentType: object.contentType,
    size: String(object.body.length),
    md5Hash: md5(object.body),
    crc32c: crc32c(object.body),
    updated: object.updated.toISOString(),
    timeCreated: object.updated.toISOString(),
  };
}

/** The parts of a `multipart/related` body. */
function multipartParts(contentType: string, body: Buffer): Buffer[] {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
  if (!boundary) return [];
  const parts: Buffer[] = [];
  const delimiter = Buffer.from(`--${boundary}`);
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const next = body.indexOf(delimiter, at + delimiter.length);
    if (next < 0) break;
    const part = body.subarray(at + delimiter.length, next);
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd >= 0) parts.push(part.subarray(headerEnd + 4, part.length - 2));
    at = next;
  }
  return parts;
}

function conditionNotMet(res: ServerResponse): true {
  return jsonError(
    res,
    412,
    'At least one of the pre-conditions you specified did not hold.',
    'conditionNotMet',
  );
}

function json(res: ServerResponse, status: number, value: unknown): true {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
  return true;
}

function jsonError(res: ServerResponse, status: number, message: string, reason: string): true {
  return json(res, status, {
    error: { code: status, message, errors: [{ message, domain: 'global', reason }] },
  });
}
