import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DaemonHttpError, getDaemonJson, imagePath } from './daemon-http.js';

// A daemon stand-in on a unix socket, as dockerd listens: it answers by path.
const socketPath = path.join(mkdtempSync(path.join(tmpdir(), 'zenbuild-daemon-')), 'docker.sock');
const seen: string[] = [];
const server = http.createServer((request, response) => {
  seen.push(request.url ?? '');
  if (request.url === '/version')
    return response.end(JSON.stringify({ Version: '28.0', ApiVersion: '1.48' }));
  if (request.url?.startsWith('/images/missing')) {
    response.statusCode = 404;
    return response.end(JSON.stringify({ message: 'No such image: missing:1' }));
  }
  if (request.url === '/slow') return; // never answers
  response.statusCode = 500;
  response.end('plain text failure\n');
});

beforeAll(() => new Promise<void>((resolve) => server.listen(socketPath, resolve)));
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const connection = { options: { socketPath }, description: 'test socket' };

describe('getDaemonJson', () => {
  it('reads a JSON answer over the unix socket', async () => {
    expect(await getDaemonJson(connection, '/version')).toEqual({ Version: '28.0', ApiVersion: '1.48' });
  });

  it('rejects a non-2xx answer with its status and the daemon message', async () => {
    const error = await getDaemonJson(connection, imagePath('missing:1')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DaemonHttpError);
    expect(error).toMatchObject({ statusCode: 404, message: 'No such image: missing:1' });
    const plain = await getDaemonJson(connection, '/boom').catch((e: unknown) => e);
    expect(plain).toMatchObject({ statusCode: 500, message: 'plain text failure' });
  });

  it('gives up on a daemon that does not answer', async () => {
    await expect(getDaemonJson(connection, '/slow', 200)).rejects.toThrow('no answer within 0.2 s');
  });

  it('says what is wrong when nothing listens', async () => {
    await expect(
      getDaemonJson({ options: { socketPath: `${socketPath}.gone` }, description: '' }, '/version'),
    ).rejects.toThrow(/ENOENT/);
  });
});

describe('imagePath', () => {
  it('keeps the separators of a reference and escapes the rest', () => {
    expect(imagePath('localhost:5000/team/app@sha256:ab12')).toBe(
      '/images/localhost:5000/team/app@sha256:ab12/json',
    );
    expect(imagePath('app:1?x=1#y')).toBe('/images/app:1%3Fx%3D1%23y/json');
  });
});
