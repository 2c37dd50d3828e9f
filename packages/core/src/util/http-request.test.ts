import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpRequestError, httpRequest } from './http-request.js';

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/** A server on a free loopback port; returns its origin. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function rejection(promise: Promise<unknown>): Promise<HttpRequestError> {
  try {
    await promise;
  } catch (error) {
    return error as HttpRequestError;
  }
  throw new Error('expected a rejection');
}

describe('httpRequest', () => {
  it('returns the status, the headers case-insensitively and the body', async () => {
    const origin = await serve((req, res) => {
      res.writeHead(201, { 'Docker-Content-Digest': 'sha256:abc', 'x-method': req.method ?? '' });
      res.end('{"ok":true}');
    });
    const response = await httpRequest(`${origin}/v2/`, { method: 'POST', timeoutMs: 2000 });
    expect(response).toMatchObject({ status: 201, ok: true, text: '{"ok":true}' });
    expect(response.header('docker-content-digest')).toBe('sha256:abc');
    expect(response.header('X-Method')).toBe('POST');
  });

  it('follows redirects, keeping the authorization on the same origin only, as fetch does', async () => {
    const seen: Array<string | undefined> = [];
    const other = await serve((req, res) => {
      seen.push(`other ${req.headers.authorization}`);
      res.end('there');
    });
    const origin = await serve((req, res) => {
      seen.push(`${req.url} ${req.headers.authorization}`);
      if (req.url === '/a') res.writeHead(307, { location: '/b' }).end();
      else res.writeHead(302, { location: `${other}/c` }).end();
    });
    const response = await httpRequest(`${origin}/a`, {
      headers: { Authorization: 'Bearer secret' },
      timeoutMs: 2000,
    });
    expect(response.text).toBe('there');
    expect(seen).toEqual(['/a Bearer secret', '/b Bearer secret', 'other undefined']);
  });

  it('sends a body, and follows a 303 with a GET and no body', async () => {
    const seen: string[] = [];
    const origin = await serve(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      seen.push(`${req.method} ${req.url} ${Buffer.concat(chunks).toString()}`);
      if (req.url === '/form') res.writeHead(303, { location: '/result' }).end();
      else res.end('done');
    });
    const response = await httpRequest(`${origin}/form`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=refresh_token',
      timeoutMs: 2000,
    });
    expect(response.text).toBe('done');
    expect(seen).toEqual(['POST /form grant_type=refresh_token', 'GET /result ']);
  });

  it('stops after too many redirects', async () => {
    const origin = await serve((_, res) => res.writeHead(302, { location: '/again' }).end());
    const error = await rejection(httpRequest(`${origin}/`, { timeoutMs: 2000, maxRedirects: 3 }));
    expect(error.code).toBe('ERR_TOO_MANY_REDIRECTS');
  });

  it('gives up when there is no answer in time, and says so with a code', async () => {
    const origin = await serve(() => {}); // never answers
    const error = await rejection(httpRequest(`${origin}/`, { timeoutMs: 200 }));
    expect(error).toBeInstanceOf(HttpRequestError);
    expect(error.code).toBe('ETIMEDOUT');
    expect(error.message).toBe('no answer within 0.2 s');
  });

  it('reports node’s code when nothing listens', async () => {
    const origin = await serve(() => {});
    const closed = servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve)));
    await Promise.all(closed);
    const error = await rejection(httpRequest(`${origin}/`, { timeoutMs: 2000 }));
    expect(error.code).toBe('ECONNREFUSED');
  });
});
