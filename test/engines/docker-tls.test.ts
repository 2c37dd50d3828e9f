// @zenbuild/docker over tcp with TLS (DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH), against the real
// daemon behind a TLS listener that requires a client certificate: the whole conformance suite (build,
// push with credentials, cancel, a failing RUN) runs through it, with dockerode and node's http client.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildRequest, containerEngineConformance, failure, runContext } from '@zenbuild/conformance';
import { DockerCliEngine, DockerEngine } from '@zenbuild/docker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dockerCertificates, startDockerTlsProxy } from '../infra/docker-tls-proxy.js';
import { imageHistory, runInImage, savedImage } from '../infra/dockerd.js';

const baseImage = inject('baseImage');
let proxy: Awaited<ReturnType<typeof startDockerTlsProxy>>;
let tlsEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  proxy = await startDockerTlsProxy();
  tlsEnv = {
    DOCKER_HOST: proxy.host,
    DOCKER_TLS_VERIFY: '1',
    DOCKER_CERT_PATH: proxy.certs,
    DOCKER_CONFIG: '/nonexistent-zenbuild',
    PATH: process.env.PATH,
  };
});
afterAll(() => proxy.close());

containerEngineConformance(
  'docker-tls',
  () => ({
    engine: new DockerEngine({ env: tlsEnv }),
    baseImage,
    run: runInImage,
    withEnv: (env) => new DockerEngine({ env: { ...tlsEnv, ...env } }),
    history: (image) => imageHistory('docker', image),
    save: (image) => savedImage('docker', image),
  }),
  { registries: inject('registries'), capabilities: { buildkit: true } },
);

describe('DockerEngine over TLS', () => {
  it('says it reached the daemon over verified TLS, and really went through the TLS listener', async () => {
    const before = proxy.received();
    const availability = await new DockerEngine({ env: tlsEnv }).check();
    expect(availability.reason).toMatch(
      /^the Docker daemon at tcp:\/\/127\.0\.0\.1:\d+ \(DOCKER_HOST, TLS verified\) answered \(Docker /,
    );
    expect(proxy.received()).toBeGreaterThan(before);
  });

  it('is unavailable, with the reason, when the daemon is spoken to without TLS', async () => {
    const { DOCKER_TLS_VERIFY: _, ...plain } = tlsEnv;
    const availability = await new DockerEngine({ env: plain }).check();
    expect(availability.available).toBe(false);
    expect(availability.reason).toMatch(/tcp:\/\/127\.0\.0\.1:\d+ \(DOCKER_HOST\) does not answer/);
  });

  it('reads DOCKER_TLS_VERIFY as the docker CLI does: any value but an empty one, 0 too, means verified TLS', async () => {
    for (const value of ['0', 'yes']) {
      const env = { ...tlsEnv, DOCKER_TLS_VERIFY: value };
      expect((await new DockerEngine({ env }).check()).reason).toMatch(/TLS verified\) answered/);
      // The docker binary itself, from the same environment (the subprocess mode's check).
      expect((await new DockerCliEngine({ env }).check()).available).toBe(true);
    }
    const empty = { ...tlsEnv, DOCKER_TLS_VERIFY: '' };
    expect((await new DockerEngine({ env: empty }).check()).available).toBe(false);
    expect((await new DockerCliEngine({ env: empty }).check()).available).toBe(false);
  });

  /** A docker config directory whose current context, made by the docker CLI, is the TLS listener. */
  const configWithTlsContext = () => {
    const config = mkdtempSync(path.join(tmpdir(), 'zenbuild-contexts-'));
    const docker = (...args: string[]) =>
      execFileSync('docker', args, { env: { PATH: process.env.PATH, DOCKER_CONFIG: config }, stdio: 'pipe' });
    const certs = proxy.certs;
    docker(
      'context',
      'create',
      'zenbuild-tls',
      '--docker',
      `host=${proxy.host},ca=${certs}/ca.pem,cert=${certs}/cert.pem,key=${certs}/key.pem`,
    );
    docker('context', 'use', 'zenbuild-tls');
    return config;
  };

  it('reaches the daemon through a docker context made by the docker CLI (the current one, with its TLS files)', async () => {
    const config = configWithTlsContext();
    const engine = new DockerEngine({ env: { DOCKER_CONFIG: config, PATH: process.env.PATH } });
    const before = proxy.received();
    expect((await engine.check()).reason).toMatch(
      /^the Docker daemon at tcp:\/\/127\.0\.0\.1:\d+ \(docker context zenbuild-tls, TLS verified\) answered/,
    );
    const image = `zenbuild-test/docker-context:${Math.random().toString(36).slice(2, 8)}`;
    await engine.build(
      await buildRequest(image, `FROM ${baseImage}\nRUN echo ${image} > /id\n`),
      runContext(),
    );
    expect(runInImage(image, ['cat', '/id'])).toBe(`${image}\n`);
    expect(proxy.received()).toBeGreaterThan(before + 1);
  });

  it("keeps the user's docker context in the CLI mode when the stack registry brings credentials", async () => {
    // The stack's credentials go into a config directory of zenbuild's: the build and the push must
    // still go to the daemon of the user's current context, the one check() found.
    const config = configWithTlsContext();
    const engine = new DockerCliEngine({ env: { DOCKER_CONFIG: config, PATH: process.env.PATH } });
    const { open } = inject('registries');
    const registry = {
      flavor: 'default',
      name: 'open',
      uri: open,
      credentials: { username: 'anyone', password: 'the-open-registry-takes-any' },
    };
    const image = `${open}/zenbuild-test/docker-cli-context:${Math.random().toString(36).slice(2, 8)}`;
    const before = proxy.received();
    await engine.build(
      await buildRequest(image, `FROM ${baseImage}\nRUN echo ${image} > /id\n`, { registry }),
      runContext(),
    );
    const afterBuild = proxy.received();
    expect(afterBuild).toBeGreaterThan(before);
    await engine.push(image, registry, runContext());
    expect(proxy.received()).toBeGreaterThan(afterBuild);
    await engine.login(registry);
    // The user's config directory is as the CLI left it: no credentials were written into it.
    const userConfig = readFileSync(path.join(config, 'config.json'), 'utf8');
    expect(userConfig).toContain('zenbuild-tls');
    expect(userConfig).not.toContain(Buffer.from('anyone:').toString('base64').slice(0, 8));
  });

  it('refuses a daemon whose certificate another CA signed', async () => {
    const stranger = dockerCertificates(); // a client certificate and a CA the listener does not know
    const availability = await new DockerEngine({ env: { ...tlsEnv, DOCKER_CERT_PATH: stranger } }).check();
    expect(availability.available).toBe(false);
    expect(availability.reason).toMatch(/TLS verified\) does not answer \(.*(certificate|self[- ]signed)/i);
  });

  it('names the files it needs when DOCKER_CERT_PATH lacks them', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'zenbuild-no-certs-'));
    const error = await failure(
      Promise.resolve().then(() => new DockerEngine({ env: { ...tlsEnv, DOCKER_CERT_PATH: empty } }).check()),
    );
    expect(error.message).toMatch(
      /DOCKER_TLS_VERIFY is set but the TLS files in .*zenbuild-no-certs-\w+ \(ca\.pem, cert\.pem, key\.pem\) cannot be read/,
    );
  });
});
