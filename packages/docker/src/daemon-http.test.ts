import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerConnection } from './connection.js';
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

describe('getDaemonJson over tcp with TLS (DOCKER_TLS_VERIFY)', () => {
  /** A CA, a server certificate for 127.0.0.1 and a client certificate, as `dockerd --tlsverify` uses. */
  function certificates(): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-tls-'));
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=test-ca',
      '-keyout',
      'ca-key.pem',
      '-out',
      'ca.pem',
    );
    for (const [name, extra] of [
      ['server', 'subjectAltName=IP:127.0.0.1'],
      ['client', 'extendedKeyUsage=clientAuth'],
    ] as const) {
      openssl(
        'req',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        `/CN=${name}`,
        '-keyout',
        `${name}-key.pem`,
        '-out',
        `${name}.csr`,
      );
      writeFileSync(path.join(dir, `${name}.ext`), `${extra}\n`);
      openssl(
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca-key.pem',
        '-CAcreateserial',
        '-days',
        '1',
        '-extfile',
        `${name}.ext`,
        '-out',
        `${name}.pem`,
      );
    }
    // The docker client's file names.
    writeFileSync(path.join(dir, 'cert.pem'), readFileSync(path.join(dir, 'client.pem')));
    writeFileSync(path.join(dir, 'key.pem'), readFileSync(path.join(dir, 'client-key.pem')));
    return dir;
  }

  it('verifies the daemon with ca.pem and presents cert.pem/key.pem; plain http to it fails', async () => {
    const certs = certificates();
    const read = (name: string) => readFileSync(path.join(certs, name));
    const server = https.createServer(
      {
        ca: read('ca.pem'),
        cert: read('server.pem'),
        key: read('server-key.pem'),
        requestCert: true,
        rejectUnauthorized: true,
      },
      (_request, response) => response.end(JSON.stringify({ Version: 'tls', ApiVersion: '1.48' })),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const env = { DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs };
      expect(await getDaemonJson(dockerConnection(env), '/version')).toEqual({
        Version: 'tls',
        ApiVersion: '1.48',
      });
      // Without TLS the same daemon does not answer a plain http request.
      await expect(
        getDaemonJson(dockerConnection({ DOCKER_HOST: `tcp://127.0.0.1:${port}` }), '/version', 2000),
      ).rejects.toThrow();
    } finally {
      server.close();
    }
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
