import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { networkAddress } from './network-forward.js';
import { buildWheel } from './python-image.js';

export interface PrivateIndex {
  /** `http://host:port/simple`, without credentials; the build reaches it on this machine's address. */
  url: string;
  host: string;
  user: string;
  token: string;
  /** How often each wheel file was downloaded with the right credentials. */
  downloads(): Record<string, number>;
  /** Requests refused for want of the right credentials. */
  refused(): number;
  close(): Promise<void>;
}

/**
 * A private package index as pip and uv read one (the "simple" repository API, PEP 503: `/simple/<name>/`
 * lists a project's files as links), over plain http on this machine's network address, answering only
 * requests with HTTP basic auth for `user` and a random token (401 with `WWW-Authenticate` otherwise, as
 * the hosted indexes do). It serves the wheels it is given, built here; `latencyMs` delays each file, as
 * a remote index would.
 */
export async function startPrivateIndex(
  wheels: Array<{ name: string; version: string }>,
  { latencyMs = 0 }: { latencyMs?: number } = {},
): Promise<PrivateIndex> {
  const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-index-'));
  const files = new Map<string, { project: string; file: string }>();
  for (const wheel of wheels) {
    const file = buildWheel(dir, { ...wheel, value: `${wheel.name} ${wheel.version}` });
    files.set(file, { project: wheel.name, file });
  }
  const user = 'ci';
  const token = `idx-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
  const expected = `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}`;
  const downloads: Record<string, number> = {};
  let refused = 0;
  const authorized = (request: IncomingMessage) => request.headers.authorization === expected;

  const server = createServer((request, response) => {
    if (!authorized(request)) {
      refused++;
      response.writeHead(401, { 'www-authenticate': 'Basic realm="zenbuild test index"' }).end();
      return;
    }
    const url = new URL(request.url ?? '/', 'http://index');
    const project = /^\/simple\/([^/]+)\/?$/.exec(url.pathname)?.[1];
    if (project) {
      const links = [...files.values()]
        .filter((entry) => normalise(entry.project) === normalise(project))
        .map(({ file }) => `<a href="/files/${file}">${file}</a>`);
      if (links.length === 0) return void response.writeHead(404).end();
      response
        .writeHead(200, { 'content-type': 'text/html' })
        .end(`<html><body>${links.join('\n')}</body></html>`);
      return;
    }
    const file = /^\/files\/([^/]+)$/.exec(url.pathname)?.[1];
    if (file && files.has(file)) {
      downloads[file] = (downloads[file] ?? 0) + 1;
      setTimeout(() => {
        // Files never change: cacheable for good, as PyPI serves them.
        response
          .writeHead(200, {
            'content-type': 'application/octet-stream',
            'cache-control': 'max-age=365000000, immutable, public',
          })
          .end(readFileSync(path.join(dir, file)));
      }, latencyMs);
      return;
    }
    response.writeHead(404).end();
  });
  const host = networkAddress();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/simple`,
    host,
    user,
    token,
    downloads: () => ({ ...downloads }),
    refused: () => refused,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** PEP 503's normalised project name. */
function normalise(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}
