import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SOCKET, dockerConnection } from './connection.js';

/** A docker config directory with contexts laid out as `docker context create` writes them. */
function dockerConfig(options: {
  current?: string;
  contexts?: Record<string, { host: string; skipTlsVerify?: boolean; tls?: string[] }>;
}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-docker-config-'));
  writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({ auths: {}, ...(options.current ? { currentContext: options.current } : {}) }),
  );
  for (const [name, context] of Object.entries(options.contexts ?? {})) {
    const id = createHash('sha256').update(name).digest('hex');
    mkdirSync(path.join(dir, 'contexts/meta', id), { recursive: true });
    writeFileSync(
      path.join(dir, 'contexts/meta', id, 'meta.json'),
      JSON.stringify({
        Name: name,
        Metadata: {},
        Endpoints: { docker: { Host: context.host, SkipTLSVerify: context.skipTlsVerify ?? false } },
      }),
    );
    if (context.tls) {
      const tlsDir = path.join(dir, 'contexts/tls', id, 'docker');
      mkdirSync(tlsDir, { recursive: true });
      for (const file of context.tls) writeFileSync(path.join(tlsDir, file), `${file} of ${name}`);
    }
  }
  return dir;
}

describe('dockerConnection: where the daemon is, found as the docker CLI finds it', () => {
  it('uses the default socket when nothing says otherwise', () => {
    const config = dockerConfig({});
    expect(dockerConnection({ DOCKER_CONFIG: config })).toEqual({
      options: { socketPath: DEFAULT_SOCKET },
      description: `unix://${DEFAULT_SOCKET} (the default socket)`,
    });
    expect(dockerConnection({ DOCKER_CONFIG: config, DOCKER_CONTEXT: 'default' }).options).toEqual({
      socketPath: DEFAULT_SOCKET,
    });
  });

  it('follows the current context of the docker config, and DOCKER_CONTEXT over it', () => {
    const config = dockerConfig({
      current: 'desktop',
      contexts: {
        desktop: { host: 'unix:///home/me/.docker/desktop/docker.sock' },
        colima: { host: 'unix:///home/me/.colima/default/docker.sock' },
      },
    });
    expect(dockerConnection({ DOCKER_CONFIG: config })).toEqual({
      options: { socketPath: '/home/me/.docker/desktop/docker.sock' },
      description: 'unix:///home/me/.docker/desktop/docker.sock (docker context desktop)',
    });
    expect(dockerConnection({ DOCKER_CONFIG: config, DOCKER_CONTEXT: 'colima' }).options).toEqual({
      socketPath: '/home/me/.colima/default/docker.sock',
    });
  });

  it('lets DOCKER_HOST win over any context, as the docker CLI does', () => {
    const config = dockerConfig({ current: 'desktop', contexts: { desktop: { host: 'unix:///x.sock' } } });
    const connection = dockerConnection({
      DOCKER_CONFIG: config,
      DOCKER_CONTEXT: 'desktop',
      DOCKER_HOST: 'tcp://10.0.0.5:2375',
    });
    expect(connection.options).toEqual({ host: '10.0.0.5', port: 2375, protocol: 'http' });
    expect(connection.description).toBe('tcp://10.0.0.5:2375 (DOCKER_HOST)');
  });

  it('takes a tcp context’s TLS files from the context store, also only a CA', () => {
    const config = dockerConfig({
      contexts: {
        full: { host: 'tcp://build-host:2376', tls: ['ca.pem', 'cert.pem', 'key.pem'] },
        caOnly: { host: 'tcp://build-host', tls: ['ca.pem'] },
        plain: { host: 'tcp://build-host:2375' },
      },
    });
    const full = dockerConnection({ DOCKER_CONFIG: config, DOCKER_CONTEXT: 'full' });
    expect(full.description).toBe('tcp://build-host:2376 (docker context full, TLS verified)');
    expect(String(full.options.ca)).toBe('ca.pem of full');
    expect(String(full.options.cert)).toBe('cert.pem of full');
    expect(String(full.options.key)).toBe('key.pem of full');
    const caOnly = dockerConnection({ DOCKER_CONFIG: config, DOCKER_CONTEXT: 'caOnly' }).options;
    expect({ ...caOnly, ca: String(caOnly.ca) }).toEqual({
      host: 'build-host',
      port: 2376,
      protocol: 'https',
      ca: 'ca.pem of caOnly',
    });
    expect(dockerConnection({ DOCKER_CONFIG: config, DOCKER_CONTEXT: 'plain' }).options.protocol).toBe(
      'http',
    );
  });

  it('names a context that does not exist, where it was asked for, and how to choose another', () => {
    const config = dockerConfig({ current: 'gone' });
    expect(() => dockerConnection({ DOCKER_CONFIG: config })).toThrow(
      `The docker context \`gone\` (currentContext in ${config}/config.json) does not exist`,
    );
    expect(() => dockerConnection({ DOCKER_CONFIG: config, DOCKER_CONTEXT: 'typo' })).toThrow(
      /docker context `typo` \(DOCKER_CONTEXT\) does not exist: .*`docker context ls` lists the contexts/,
    );
  });

  it('refuses a context that skips TLS verification, and an ssh host with the CLI mode as the way out', () => {
    const config = dockerConfig({
      contexts: {
        insecure: { host: 'tcp://h:2376', skipTlsVerify: true, tls: ['ca.pem'] },
        remote: { host: 'ssh://me@build-host' },
      },
    });
    expect(() => dockerConnection({ DOCKER_CONFIG: config, DOCKER_CONTEXT: 'insecure' })).toThrow(
      /skips TLS verification, which zenbuild does not do/,
    );
    expect(() => dockerConnection({ DOCKER_CONFIG: config, DOCKER_CONTEXT: 'remote' })).toThrow(
      'ssh://me@build-host (the host of docker context remote): the ssh:// scheme is not supported; use unix:// or tcp:// (or set `use_subprocess_call: true`',
    );
  });

  it('takes the TLS files from the docker config directory when DOCKER_CERT_PATH is not set', () => {
    const config = mkdtempSync(path.join(tmpdir(), 'zenbuild-docker-certs-'));
    for (const file of ['ca.pem', 'cert.pem', 'key.pem'])
      writeFileSync(path.join(config, file), `${file} here`);
    const { options } = dockerConnection({
      DOCKER_HOST: 'tcp://build-host:2376',
      DOCKER_TLS_VERIFY: '1',
      DOCKER_CONFIG: config,
    });
    expect([String(options.ca), String(options.cert), String(options.key)]).toEqual([
      'ca.pem here',
      'cert.pem here',
      'key.pem here',
    ]);
  });

  it('reads DOCKER_HOST errors with the variable named', () => {
    expect(() => dockerConnection({ DOCKER_HOST: 'not a url' })).toThrow(
      'DOCKER_HOST=not a url is not a URL such as unix:///var/run/docker.sock or tcp://host:2376.',
    );
    expect(() => dockerConnection({ DOCKER_HOST: 'npipe:////./pipe/docker_engine' })).toThrow(
      'DOCKER_HOST=npipe:////./pipe/docker_engine: the npipe:// scheme is not supported',
    );
  });
});
