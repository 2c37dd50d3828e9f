import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deferredFiles, loadDockerode } from './load-dockerode.js';

const require = createRequire(import.meta.url);
const loaded = (pattern: RegExp) => Object.keys(require.cache).filter((file) => pattern.test(file));

// dockerode's ping against a daemon stand-in on a unix socket: dockerode works with the stand-ins.
const socketPath = path.join(mkdtempSync(path.join(tmpdir(), 'zenbuild-dockerode-')), 'docker.sock');
const server = http.createServer((request, response) => response.end(request.url === '/_ping' ? 'OK' : ''));
beforeAll(() => new Promise<void>((resolve) => server.listen(socketPath, resolve)));
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('loadDockerode', () => {
  it('loads dockerode without ssh2 and grpc-js, which load on first use', async () => {
    const Dockerode = await loadDockerode();
    expect(deferredFiles.map((file) => file.match(/(ssh2|grpc-js|proto-loader)/)?.[1]).sort()).toEqual([
      'grpc-js',
      'proto-loader',
      'ssh2',
    ]);
    // Only the stand-ins are in the cache: none of the real packages' own files.
    expect(loaded(/[/\\](ssh2|@grpc)[/\\]/)).toEqual(expect.arrayContaining(deferredFiles));
    expect(loaded(/[/\\](ssh2|@grpc)[/\\]/)).toHaveLength(deferredFiles.length);

    const answer = await new Dockerode({ socketPath }).ping();
    expect(String(answer)).toBe('OK');
  });

  it('gives the real module on first use, to the stand-in and to every later require', async () => {
    await loadDockerode();
    const ssh2File = deferredFiles.find((file) => file.includes('ssh2')) as string;
    const standIn = require.cache[ssh2File]?.exports as { Client: new () => { connect: unknown } };
    // docker-modem reads `Client` when it loads and calls `new` on it only for an ssh:// host.
    const client = new standIn.Client();
    expect(typeof client.connect).toBe('function');
    const real = require(ssh2File) as { Client: new () => unknown };
    expect(real).not.toBe(standIn);
    expect(client).toBeInstanceOf(real.Client);
    // After that, the stand-in hands out the real exports too (for code that kept it).
    expect(standIn.Client).toBe(real.Client);

    const grpcFile = deferredFiles.find((file) => file.includes('grpc-js')) as string;
    const grpcStandIn = require.cache[grpcFile]?.exports as { Server: unknown };
    expect(typeof grpcStandIn.Server).toBe('function');
    expect((require(grpcFile) as { Server: unknown }).Server).toBe(grpcStandIn.Server);
    expect(loaded(/[/\\]ssh2[/\\]lib[/\\]client\.js$/)).toHaveLength(1);
  });
});
