import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { crc32 } from 'node:zlib';

/** One stored object. */
export interface S3Object {
  body: Buffer;
  etag: string;
  contentType?: string;
}

/** One S3 call as the fake saw it, for tests that count uploads. */
export interface S3Call {
  operation: string;
  bucket: string;
  key: string;
}

/**
 * The slice of S3's REST API (path style) that the SDK's PutObject, HeadObject, GetObject and
 * lib-storage's multipart upload use. Bodies sent as `aws-chunked` (the SDK's default for streams)
 * are decoded, and crc32 checksums, as header or trailer, are verified as S3 does.
 */
export class FakeS3 {
  readonly buckets = new Map<string, Map<string, S3Object>>();
  readonly calls: S3Call[] = [];
  /** The most keys one ListObjectsV2 page holds (S3: 1000); tests lower it to make the client page. */
  listPageSize = 1000;
  /** Calls to answer with 403 AccessDenied, as S3 does when a policy denies them; tests set it. */
  deny: ((operation: string, key: string) => boolean) | undefined;
  readonly #uploads = new Map<string, { bucket: string; key: string; parts: Map<number, Buffer> }>();

  createBucket(name: string): void {
    if (!this.buckets.has(name)) this.buckets.set(name, new Map());
  }

  object(bucket: string, key: string): S3Object | undefined {
    return this.buckets.get(bucket)?.get(key);
  }

  async handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://s3');
    const [, bucket = '', ...rest] = url.pathname.split('/');
    const key = rest.map(decodeURIComponent).join('/');
    const q = url.searchParams;
    const objects = this.buckets.get(bucket);
    const record = (operation: string) => this.calls.push({ operation, bucket, key });
    const method = req.method ?? 'GET';

    if (!objects) {
      record(`${method} (no such bucket)`);
      if (method === 'HEAD') return end(res, 404);
      return xmlError(res, 404, 'NoSuchBucket', 'The specified bucket does not exist', bucket);
    }
    const simple =
      method === 'GET' && key === '' && q.get('list-type') === '2'
        ? 'ListObjectsV2'
        : method === 'PUT' && !q.has('uploadId')
          ? 'PutObject'
          : method === 'GET' && !q.has('uploads')
            ? 'GetObject'
            : method === 'DELETE' && !q.has('uploadId')
              ? 'DeleteObject'
              : undefined;
    // A list is recorded with its prefix, the key it asks about.
    const subject = simple === 'ListObjectsV2' ? (q.get('prefix') ?? '') : key;
    if (simple && this.deny?.(simple, subject)) {
      this.calls.push({ operation: `${simple} (denied)`, bucket, key: subject });
      return xmlError(res, 403, 'AccessDenied', 'Access Denied', key);
    }
    if (method === 'GET' && key === '' && q.get('list-type') === '2') {
      this.calls.push({ operation: 'ListObjectsV2', bucket, key: subject });
      return this.#list(res, bucket, objects, q);
    }
    if (method === 'DELETE' && !q.has('uploadId')) {
      // DeleteObject answers 204 whether or not the key existed (S3 API reference).
      record('DeleteObject');
      objects.delete(key);
      return end(res, 204);
    }
    if (method === 'HEAD' || (method === 'GET' && !q.has('uploads'))) {
      record(method === 'HEAD' ? 'HeadObject' : 'GetObject');
      const object = objects.get(key);
      if (!object) {
        if (method === 'HEAD') return end(res, 404);
        return xmlError(res, 404, 'NoSuchKey', 'The specified key does not exist.', key);
      }
      res.writeHead(200, {
        etag: object.etag,
        'content-length': object.body.length,
        'content-type': object.contentType ?? 'application/octet-stream',
        'last-modified': new Date().toUTCString(),
      });
      res.end(method === 'HEAD' ? undefined : object.body);
      return;
    }
    if (method === 'POST' && q.has('uploads')) {
      record('CreateMultipartUpload');
      const uploadId = randomUUID();
      this.#uploads.set(uploadId, { bucket, key, parts: new Map() });
      return xml(
        res,
        `<InitiateMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${xmlEscape(key)}</Key><UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`,
      );
    }
    const uploadId = q.get('uploadId');
    if (uploadId) {
      const upload = this.#uploads.get(uploadId);
      if (!upload)
        return xmlError(res, 404, 'NoSuchUpload', 'The specified upload does not exist.', uploadId);
      if (method === 'PUT') {
        record('UploadPart');
        const data = decodeBody(req, body);
        if (typeof data === 'string') return xmlError(res, 400, 'BadDigest', data, key);
        upload.parts.set(Number(q.get('partNumber')), data);
        res.writeHead(200, { etag: etagOf(data) });
        return void res.end();
      }
      if (method === 'POST') {
        record('CompleteMultipartUpload');
        const numbers = [...body.toString('utf8').matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((m) =>
          Number(m[1]),
        );
        const parts = numbers.map((n) => upload.parts.get(n));
        if (numbers.length === 0 || parts.some((p) => !p)) {
          return xmlError(
            res,
            400,
            'InvalidPart',
            'One or more of the specified parts could not be found.',
            key,
          );
        }
        const data = Buffer.concat(parts as Buffer[]);
        const etag = `"${createHash('md5').update(data).digest('hex')}-${parts.length}"`;
        objects.set(key, { body: data, etag });
        this.#uploads.delete(uploadId);
        return xml(
          res,
          `<CompleteMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${xmlEscape(key)}</Key><ETag>${xmlEscape(etag)}</ETag></CompleteMultipartUploadResult>`,
        );
      }
      if (method === 'DELETE') {
        record('AbortMultipartUpload');
        this.#uploads.delete(uploadId);
        return end(res, 204);
      }
    }
    if (method === 'PUT') {
      record('PutObject');
      // Conditional writes (PutObject, S3 API reference): `If-None-Match: *` only creates, 412
      // PreconditionFailed when the key exists; S3 takes no other value there.
      const ifNoneMatch = req.headers['if-none-match'];
      if (ifNoneMatch !== undefined && ifNoneMatch !== '*')
        return xmlError(res, 501, 'NotImplemented', 'If-None-Match only accepts *', key);
      if (ifNoneMatch === '*' && objects.has(key))
        return xmlError(
          res,
          412,
          'PreconditionFailed',
          'At least one of the pre-conditions you specified did not hold',
          key,
        );
      const data = decodeBody(req, body);
      if (typeof data === 'string') return xmlError(res, 400, 'BadDigest', data, key);
      const object: S3Object = { body: data, etag: etagOf(data) };
      const type = req.headers['content-type'];
      if (type) object.contentType = type;
      objects.set(key, object);
      res.writeHead(200, { etag: object.etag });
      return void res.end();
    }
    return xmlError(
      res,
      405,
      'MethodNotAllowed',
      `The fake does not implement ${method} ${url.pathname}`,
      key,
    );
  }

  #list(res: ServerResponse, bucket: string, objects: Map<string, S3Object>, q: URLSearchParams): void {
    xml(res, listPage(bucket, objects, q, this.listPageSize));
  }
}

/**
 * ListObjectsV2's reply (S3 API reference): keys in UTF-8 binary order after the continuation token, at
 * most 1,000 a page, IsTruncated and NextContinuationToken while more remain.
 */
function listPage(
  bucket: string,
  objects: Map<string, S3Object>,
  q: URLSearchParams,
  pageSize: number,
): string {
  const prefix = q.get('prefix') ?? '';
  const max = Math.min(Number(q.get('max-keys') ?? 1000), 1000, pageSize);
  const token = q.get('continuation-token');
  const after = token ? Buffer.from(token, 'base64').toString('utf8') : (q.get('start-after') ?? '');
  const keys = [...objects.keys()]
    .filter((k) => k.startsWith(prefix) && k > after)
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const page = keys.slice(0, max);
  const truncated = keys.length > max;
  const contents = page
    .map((k) => {
      const o = objects.get(k) as S3Object;
      return `<Contents><Key>${xmlEscape(k)}</Key><LastModified>${new Date().toISOString()}</LastModified><ETag>${xmlEscape(o.etag)}</ETag><Size>${o.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
    })
    .join('');
  const next = truncated ? Buffer.from(page.at(-1) as string).toString('base64') : undefined;
  return `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${bucket}</Name><Prefix>${xmlEscape(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${max}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${token ? `<ContinuationToken>${xmlEscape(token)}</ContinuationToken>` : ''}${next ? `<NextContinuationToken>${next}</NextContinuationToken>` : ''}${contents}</ListBucketResult>`;
}

/** The object bytes of a request: `aws-chunked` framing removed, crc32 checked. A string is an error. */
function decodeBody(req: IncomingMessage, raw: Buffer): Buffer | string {
  let data = raw;
  const trailers: Record<string, string> = {};
  if (String(req.headers['content-encoding'] ?? '').includes('aws-chunked')) {
    const chunks: Buffer[] = [];
    let at = 0;
    for (;;) {
      const lineEnd = raw.indexOf('\r\n', at);
      if (lineEnd < 0) return 'truncated aws-chunked body';
      const size = Number.parseInt(raw.subarray(at, lineEnd).toString('latin1').split(';')[0] ?? '', 16);
      at = lineEnd + 2;
      if (size === 0) break;
      chunks.push(raw.subarray(at, at + size));
      at += size + 2;
    }
    for (const line of raw.subarray(at).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) trailers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    data = Buffer.concat(chunks);
    const declared = Number(req.headers['x-amz-decoded-content-length']);
    if (Number.isFinite(declared) && declared !== data.length) {
      return `x-amz-decoded-content-length says ${declared} bytes, the body had ${data.length}`;
    }
  }
  const expected = trailers['x-amz-checksum-crc32'] ?? req.headers['x-amz-checksum-crc32'];
  if (typeof expected === 'string') {
    const actual = Buffer.alloc(4);
    actual.writeUInt32BE(crc32(data) >>> 0);
    if (actual.toString('base64') !== expected)
      return 'The CRC32 you specified did not match the calculated checksum.';
  }
  return data;
}

const etagOf = (data: Buffer) => `"${createHash('md5').update(data).digest('hex')}"`;
const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function end(res: ServerResponse, status: number): void {
  res.writeHead(status);
  res.end();
}

function xml(res: ServerResponse, body: string): void {
  res.writeHead(200, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
}

function xmlError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  resource: string,
): void {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message><Resource>${xmlEscape(resource)}</Resource><RequestId>${randomUUID()}</RequestId></Error>`,
  );
}
