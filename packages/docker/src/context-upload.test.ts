import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import {
  type BuildContextSource,
  buildContextSource,
  hashContext,
  walkContext,
} from '@zenbuild/core/backend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContextUpload } from './context-upload.js';
import { loadDockerode } from './load-dockerode.js';

// A daemon stand-in on a unix socket that reads a build's body slowly, so the socket's queue fills and
// chunks stay in flight for a while, and answers with the sha256 of what it received.
const socketPath = path.join(mkdtempSync(path.join(tmpdir(), 'zenbuild-upload-')), 'docker.sock');
const server = http.createServer(async (request, response) => {
  if (request.url?.includes('fail=1')) {
    response.writeHead(500, { 'content-type': 'application/json' }).end('{"message":"no thanks"}');
    request.destroy();
    return;
  }
  const hash = createHash('sha256');
  for await (const chunk of request) {
    hash.update(chunk as Buffer);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(`${JSON.stringify({ stream: hash.digest('hex') })}\n`);
});
beforeAll(() => new Promise<void>((resolve) => server.listen(socketPath, resolve)));
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/**
 * A context of large files, many small ones and a generated Dockerfile; 64 MB by default, more than the
 * archive's stream and the request buffer between them, so memory is only reused if chunks come back.
 */
async function context(large = 40): Promise<{ source: BuildContextSource; root: string }> {
  const root = mkdtempSync(path.join(tmpdir(), 'zenbuild-upload-ctx-'));
  mkdirSync(path.join(root, 'data'));
  for (let i = 0; i < large * 4; i++)
    writeFileSync(path.join(root, 'data', `f${i}.bin`), randomBytes(i % 4 === 0 ? 1_500_000 : 40_000));
  const { entries } = await walkContext({ root, files: [{ path: 'Dockerfile', content: 'FROM x\n' }] });
  return { source: buildContextSource(entries, (await hashContext(entries)).hash), root };
}

async function sha(stream: NodeJS.ReadableStream): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function build(upload: ContextUpload, query = ''): Promise<string> {
  const Dockerode = await loadDockerode();
  const stream = await new Dockerode({ socketPath }).buildImage(upload, { t: `x${query}` });
  const body = JSON.parse(await new Response(stream as unknown as ReadableStream).text());
  return body.stream;
}

describe('ContextUpload', () => {
  it('sends exactly the archive through dockerode, reusing the memory of chunks the socket has sent', async () => {
    const { source } = await context();
    const reports: Array<[number, boolean]> = [];
    const upload = new ContextUpload(source, (bytes, done) => reports.push([bytes, done]));
    expect(await build(upload)).toBe(await sha(source.tar()));
    // Progress: growing counts while the slow daemon reads, then all of the archive once, at the end.
    let length = 0;
    for await (const chunk of source.tar()) length += (chunk as Buffer).length;
    expect(reports.length).toBeGreaterThan(1);
    expect(reports.at(-1)).toEqual([length, true]);
    expect(reports.filter(([, done]) => done)).toHaveLength(1);
    const counts = reports.map(([bytes]) => bytes);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(upload.pool.reused).toBeGreaterThan(0);
    expect(upload.pool.lent).toBe(0);
    expect(upload.destroyed).toBe(true);
  });

  it('is the plain archive when read instead of piped', async () => {
    const { source } = await context(4);
    const upload = new ContextUpload(source);
    expect(await sha(upload)).toBe(await sha(source.tar()));
    expect(upload.pool.reused).toBe(0);
  });

  it('stops reading files when the daemon answers before the upload ends', async () => {
    const { source } = await context(4);
    let tar: Readable | undefined;
    const upload = new ContextUpload({
      ...source,
      tar: (options) => (tar = source.tar(options) as Readable),
    });
    const Dockerode = await loadDockerode();
    await expect(
      new Dockerode({ socketPath }).buildImage(upload, { t: 'x', fail: '1' } as object),
    ).rejects.toThrow(/no thanks/);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(tar?.destroyed).toBe(true);
  });

  it('fails the build with the archive’s error (a file that changed after planning)', async () => {
    const { source, root } = await context(4);
    writeFileSync(path.join(root, 'data', 'f1.bin'), 'changed');
    const upload = new ContextUpload(source);
    await expect(build(upload)).rejects.toThrow(/changed since it was planned|f1\.bin/);
  });
});
