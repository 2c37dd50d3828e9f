import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { credentialHelperConfig, startTokenProxy } from '@zenbuild/conformance';
import type { ZenbuildError } from '@zenbuild/core';
import { RegistryClient } from '@zenbuild/core/backend';
import { describe, expect, inject, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';
import { forwardFromNetworkAddress } from '../infra/network-forward.js';
import { pushImage } from '../infra/push.js';
import { freePort } from '../infra/registries.js';

const { open, auth, user, password } = inject('registries');
const noDockerConfig = () => ({
  DOCKER_CONFIG: mkdtempSync(path.join(tmpdir(), 'zenbuild-dc-')),
  PATH: process.env.PATH,
});

async function failure(promise: Promise<unknown>): Promise<ZenbuildError> {
  try {
    await promise;
  } catch (error) {
    return error as ZenbuildError;
  }
  throw new Error('expected a failure');
}

describe('RegistryClient against a real registry (distribution 2.8)', () => {
  it('returns the digest the registry reports (Docker-Content-Digest), by tag and by digest', async () => {
    const pushed = await pushImage(open, 'client/by-tag', 'v1');
    const client = new RegistryClient({ env: noDockerConfig() });
    expect(await client.manifestDigest(`${open}/client/by-tag:v1`)).toBe(pushed);
    expect(await client.manifestDigest(`${open}/client/by-tag@${pushed}`)).toBe(pushed);
    expect(pushed).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it.each([
    ['a Docker manifest list', 'v2s2'],
    ['an OCI image index', 'oci'],
  ])(
    'returns the digest of %s (a multi-platform image), not of one platform’s manifest',
    async (_, format) => {
      const list = `zenbuild-test-list-${format}-${Math.random().toString(36).slice(2, 8)}`;
      const target = `${open}/client/list-${format}:v1`;
      const digestFile = path.join(mkdtempSync(path.join(tmpdir(), 'zenbuild-list-')), 'digest');
      const podman = (...args: string[]) => execFileSync('podman', args, { stdio: 'pipe' });
      podman('manifest', 'create', list);
      try {
        podman('manifest', 'add', list, `containers-storage:${inject('podmanBaseImage')}`);
        podman(
          'manifest',
          'push',
          '--tls-verify=false',
          '--format',
          format,
          '--digestfile',
          digestFile,
          list,
          `docker://${target}`,
        );
      } finally {
        podman('manifest', 'rm', list);
      }
      const pushed = readFileSync(digestFile, 'utf8').trim();
      const client = new RegistryClient({ env: noDockerConfig() });
      expect(await client.manifestDigest(target)).toBe(pushed);
      expect(await client.exists(`${open}/client/list-${format}@${pushed}`)).toBe(true);
    },
  );

  it('says an image is missing, for an unknown tag or repository', async () => {
    await pushImage(open, 'client/missing', 'v1');
    const client = new RegistryClient({ env: noDockerConfig() });
    expect(await client.exists(`${open}/client/missing:v2`)).toBe(false);
    expect(await client.exists(`${open}/client/never-pushed:v1`)).toBe(false);
  });

  it('uses the stack registry credentials for basic auth', async () => {
    const pushed = await pushImage(auth, 'client/basic', 'v1', { auth: { username: user, password } });
    const client = new RegistryClient({
      env: noDockerConfig(),
      credentials: { [auth]: { username: user, password } },
    });
    expect(await client.manifestDigest(`${auth}/client/basic:v1`)).toBe(pushed);
  });

  it('asks for credentials when there are none, and rejects wrong ones, without printing them', async () => {
    await pushImage(auth, 'client/denied', 'v1', { auth: { username: user, password } });
    const none = await failure(
      new RegistryClient({ env: noDockerConfig() }).exists(`${auth}/client/denied:v1`),
    );
    expect(none.code).toBe('NOT_AVAILABLE');
    expect(none.message).toContain(`needs credentials for client/denied`);
    const wrong = await failure(
      new RegistryClient({
        env: noDockerConfig(),
        credentials: { [auth]: { username: user, password: 'wrong-password-1' } },
      }).exists(`${auth}/client/denied:v1`),
    );
    expect(wrong.message).toContain('refused the credentials from the stack registry credentials');
    expect(wrong.message).not.toContain('wrong-password-1');
  });

  it('reads credentials from the docker config file ($DOCKER_CONFIG auths)', async () => {
    const pushed = await pushImage(auth, 'client/config', 'v1', { auth: { username: user, password } });
    const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-dc-'));
    writeFileSync(
      path.join(dir, 'config.json'),
      JSON.stringify({
        auths: { [`http://${auth}`]: { auth: Buffer.from(`${user}:${password}`).toString('base64') } },
      }),
    );
    const client = new RegistryClient({ env: { DOCKER_CONFIG: dir } });
    expect(await client.manifestDigest(`${auth}/client/config:v1`)).toBe(pushed);
  });

  it('runs the credential helper the docker config names (credHelpers), with the protocol of docker-credential-*', async () => {
    const pushed = await pushImage(auth, 'client/helper', 'v1', { auth: { username: user, password } });
    const helper = credentialHelperConfig({ registry: auth, username: user, password, via: 'credHelpers' });
    const client = new RegistryClient({ env: helper.env });
    expect(await client.manifestDigest(`${auth}/client/helper:v1`)).toBe(pushed);
    expect(helper.asked()).toBe(`get ${auth}\n`);
  });

  it('a missing credential helper is a clear error', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-dc-'));
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ credsStore: 'does-not-exist' }));
    const error = await failure(
      new RegistryClient({ env: { DOCKER_CONFIG: dir, PATH: '/usr/bin:/bin' } }).exists(`${auth}/x/y:1`),
    );
    expect(error.message).toContain('docker-credential-does-not-exist is not on PATH');
  });

  it('follows the bearer-token flow, anonymously and with credentials', async () => {
    const pushed = await pushImage(open, 'client/bearer', 'v1');
    const anonymous = await startTokenProxy(open);
    const withCredentials = await startTokenProxy(open, { username: 'alice', password: 'token-secret' });
    try {
      const client = new RegistryClient({ env: noDockerConfig() });
      expect(await client.manifestDigest(`${anonymous.host}/client/bearer:v1`)).toBe(pushed);
      // The token is kept: a second request does not fetch another one.
      expect(await client.manifestDigest(`${anonymous.host}/client/bearer:v1`)).toBe(pushed);
      expect(anonymous.tokenRequests).toEqual(['zenbuild-test repository:client/bearer:pull']);

      const authed = new RegistryClient({
        env: noDockerConfig(),
        credentials: { [withCredentials.host]: { username: 'alice', password: 'token-secret' } },
      });
      expect(await authed.manifestDigest(`${withCredentials.host}/client/bearer:v1`)).toBe(pushed);
      const refused = await failure(
        new RegistryClient({ env: noDockerConfig() }).exists(`${withCredentials.host}/client/bearer:v1`),
      );
      expect(refused.message).toMatch(/token service .* answered 401 to an anonymous request/);
    } finally {
      await anonymous.close();
      await withCredentials.close();
    }
  });

  it('says when a registry speaks plain http, and speaks http to one in ZENBUILD_INSECURE_REGISTRIES', async () => {
    const pushed = await pushImage(open, 'client/insecure', 'v1');
    // The open registry at this machine's own network address: not loopback, so https is expected.
    const lan = await forwardFromNetworkAddress(open);
    try {
      const image = `${lan.host}/client/insecure:v1`;
      const error = await failure(new RegistryClient({ env: noDockerConfig() }).manifestDigest(image));
      expect(error.code).toBe('NOT_AVAILABLE');
      expect(error.message).toContain(
        `It answers in plain http, not https: if it is an insecure registry (the docker daemon's \`insecure-registries\`), list it in ZENBUILD_INSECURE_REGISTRIES=${lan.host}.`,
      );
      const listed = new RegistryClient({
        env: { ...noDockerConfig(), ZENBUILD_INSECURE_REGISTRIES: lan.host },
      });
      expect(await listed.manifestDigest(image)).toBe(pushed);
    } finally {
      lan.close();
    }
  });

  it('speaks plain http to a registry the engine treats as insecure, asking the engine once per host', async () => {
    const pushed = await pushImage(open, 'client/engine-insecure', 'v1');
    const lan = await forwardFromNetworkAddress(open);
    try {
      const asked: string[] = [];
      const client = new RegistryClient({
        env: noDockerConfig(),
        engineInsecure: async (host) => {
          asked.push(host);
          return host === lan.host;
        },
      });
      expect(await client.manifestDigest(`${lan.host}/client/engine-insecure:v1`)).toBe(pushed);
      expect(await client.exists(`${lan.host}/client/engine-insecure:v2`)).toBe(false);
      expect(asked).toEqual([lan.host]);
      // An engine that does not treat it as insecure: the error says where to configure it.
      const refused = await failure(
        new RegistryClient({ env: noDockerConfig(), engineInsecure: async () => false }).manifestDigest(
          `${lan.host}/client/engine-insecure:v1`,
        ),
      );
      expect(refused.message).toContain(
        `It answers in plain http, not https, and the engine does not treat it as an insecure registry: add it to the docker daemon's \`insecure-registries\` or podman's registries.conf (\`insecure = true\`), or list it in ZENBUILD_INSECURE_REGISTRIES=${lan.host}.`,
      );
    } finally {
      lan.close();
    }
  });

  it('speaks https without verifying the certificate to a TLS registry the engine treats as insecure', async () => {
    const pushed = await pushImage(open, 'client/untrusted', 'v1');
    const lan = await forwardFromNetworkAddress(open, { tls: true });
    try {
      const image = `${lan.host}/client/untrusted:v1`;
      const untrusted = await failure(
        new RegistryClient({ env: noDockerConfig(), certsDirectories: [] }).manifestDigest(image),
      );
      expect(untrusted.message).toContain(
        `cannot be reached (UNABLE_TO_VERIFY_LEAF_SIGNATURE). Its TLS certificate is not trusted: put its CA in /etc/docker/certs.d/${lan.host}/ca.crt (where docker and podman read it too), or, if it is an insecure registry, add it to the docker daemon's`,
      );
      const client = new RegistryClient({
        env: noDockerConfig(),
        certsDirectories: [],
        engineInsecure: async () => true,
      });
      expect(await client.manifestDigest(image)).toBe(pushed);
      // Still TLS: ZENBUILD_INSECURE_REGISTRIES (plain http) does not reach it.
      const http = await failure(
        new RegistryClient({
          env: { ...noDockerConfig(), ZENBUILD_INSECURE_REGISTRIES: lan.host },
          certsDirectories: [],
        }).manifestDigest(image),
      );
      expect(http.code).toBe('NOT_AVAILABLE');
    } finally {
      lan.close();
    }
  });

  it("trusts a registry's private CA and sends its client certificate from certs.d/<host>, as the engines do", async () => {
    const pushed = await pushImage(open, 'client/private-ca', 'v1');
    const lan = await forwardFromNetworkAddress(open, { tls: true, requireClientCertificate: true });
    try {
      const image = `${lan.host}/client/private-ca:v1`;
      const certs = mkdtempSync(path.join(tmpdir(), 'zenbuild-certs-d-'));
      mkdirSync(path.join(certs, lan.host));
      const copy = (from: string, to: string) =>
        writeFileSync(path.join(certs, lan.host, to), readFileSync(path.join(lan.certs as string, from)));
      copy('ca.pem', 'ca.crt');
      // The CA alone: the server asks for a client certificate and ends the handshake without one.
      const withoutClient = await failure(
        new RegistryClient({ env: noDockerConfig(), certsDirectories: [certs] }).manifestDigest(image),
      );
      expect(withoutClient.code).toBe('NOT_AVAILABLE');
      copy('client.pem', 'client.cert');
      copy('client-key.pem', 'client.key');
      const client = new RegistryClient({ env: noDockerConfig(), certsDirectories: ['/nonexistent', certs] });
      expect(await client.manifestDigest(image)).toBe(pushed);
      expect(await client.exists(`${lan.host}/client/private-ca:v2`)).toBe(false);
    } finally {
      lan.close();
    }
  });

  it('asks the registry without fetch, whose undici costs every run about 90 ms on Node 20', async () => {
    const pushed = await pushImage(open, 'client/no-fetch', 'v1');
    // In a process of its own, from the built package: what did the query load?
    const script = `
      import { RegistryClient } from '@zenbuild/core/backend';
      const client = new RegistryClient({ env: { DOCKER_CONFIG: '/nonexistent-zenbuild' } });
      const digest = await client.manifestDigest('${open}/client/no-fetch:v1');
      const undici = () => process.moduleLoadList.some((m) => m.includes('undici'));
      const loaded = undici();
      await fetch('http://${open}/v2/'); // the control: the same probe sees fetch once it is used
      console.log(JSON.stringify({ digest, loaded, control: undici() }));`;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: path.join(repoRoot, 'test'),
      encoding: 'utf8',
    });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ digest: pushed, loaded: false, control: true });
  });

  it('trades an identity token for a bearer token, from the docker config and from a credential helper', async () => {
    const pushed = await pushImage(open, 'client/identity', 'v1');
    const refreshToken = 'refresh-token-of-acr-4711';
    const proxy = await startTokenProxy(open, undefined, refreshToken);
    try {
      const image = `${proxy.host}/client/identity:v1`;
      // What `docker login` writes when the registry hands out an identity token (Azure does).
      const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-dc-'));
      writeFileSync(
        path.join(dir, 'config.json'),
        JSON.stringify({
          auths: {
            [proxy.host]: {
              auth: Buffer.from('00000000-0000-0000-0000-000000000000:').toString('base64'),
              identitytoken: refreshToken,
            },
          },
        }),
      );
      expect(await new RegistryClient({ env: { DOCKER_CONFIG: dir } }).manifestDigest(image)).toBe(pushed);
      // A credential helper says the same with the user name `<token>`.
      const helper = credentialHelperConfig({
        registry: proxy.host,
        username: '<token>',
        password: refreshToken,
        via: 'credHelpers',
      });
      expect(await new RegistryClient({ env: helper.env }).manifestDigest(image)).toBe(pushed);
      expect(proxy.tokenRequests).toEqual([
        'POST refresh_token zenbuild-test repository:client/identity:pull',
        'POST refresh_token zenbuild-test repository:client/identity:pull',
      ]);
      // A wrong one is refused, and the message names where it came from, never the token.
      writeFileSync(
        path.join(dir, 'config.json'),
        JSON.stringify({ auths: { [proxy.host]: { identitytoken: 'stale-token-0815' } } }),
      );
      const stale = await failure(new RegistryClient({ env: { DOCKER_CONFIG: dir } }).exists(image));
      expect(stale.message).toMatch(
        /token service .* answered 401 for the credentials from .*identity token/,
      );
      expect(stale.message).not.toContain('stale-token-0815');
    } finally {
      await proxy.close();
    }
  });

  it('reports a registry that cannot be reached', async () => {
    const port = await freePort(); // nothing listens there
    const error = await failure(
      new RegistryClient({ env: noDockerConfig(), timeoutMs: 2000 }).exists(`127.0.0.1:${port}/x/y:1`),
    );
    expect(error.code).toBe('NOT_AVAILABLE');
    expect(error.message).toMatch(/cannot be reached \(ECONNREFUSED\)/);
  });
});
