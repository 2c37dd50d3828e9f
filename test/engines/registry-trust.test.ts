// Registries the engines trust by their own configuration, not the system's: one off loopback that
// speaks plain http, as an office registry without TLS does, which the engines pull from and push to
// because they list it as insecure (dockerd's `--insecure-registry`, podman's registries.conf); and one
// with a private CA, whose certificate the engines take from /etc/docker/certs.d/<host>/ca.crt.
// zenbuild's registry client must reach both as the engine does, to look up the parent's digest and to
// check the recorded images for reuse.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildRequest, runContext } from '@zenbuild/conformance';
import { imagesPulledBy, RegistryClient } from '@zenbuild/core/backend';
import { DockerCliEngine, DockerEngine } from '@zenbuild/docker';
import { PodmanEngine, registriesConfWithInsecure } from '@zenbuild/podman';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { repoRoot, tempHome, zenbuildAsync } from '../helpers/cli.js';
import { pushToRegistry, runInPodman, startScratchDockerd } from '../infra/dockerd.js';
import { forwardFromNetworkAddress, networkAddress, privateCa } from '../infra/network-forward.js';
import { freePort, startTlsRegistry } from '../infra/registries.js';

const { open } = inject('registries');
const project = path.join(repoRoot, 'test');
let lan: Awaited<ReturnType<typeof forwardFromNetworkAddress>>;
/** A registry serving TLS at the network address with a certificate from a private CA. */
let tlsRegistry: Awaited<ReturnType<typeof startTlsRegistry>>;
let tlsParent: string;
let certsDir: string;
let daemon: Awaited<ReturnType<typeof startScratchDockerd>>;
/** The base image in the open registry, named through the network address. */
let parent: string;

beforeAll(async () => {
  lan = await forwardFromNetworkAddress(open);
  parent = pushToRegistry(inject('baseImage'), open).replace(open, lan.host);
  daemon = await startScratchDockerd([`--insecure-registry=${networkAddress()}/32`]);
  const ca = privateCa(networkAddress());
  tlsRegistry = await startTlsRegistry({
    addr: `${networkAddress()}:${await freePort()}`,
    certificate: path.join(ca, 'server.pem'),
    key: path.join(ca, 'server-key.pem'),
    ca: path.join(ca, 'ca.pem'),
  });
  // Where dockerd and podman both read a registry's CA; the port makes the directory this run's alone.
  certsDir = path.join('/etc/docker/certs.d', tlsRegistry.host);
  mkdirSync(certsDir, { recursive: true });
  copyFileSync(path.join(ca, 'ca.pem'), path.join(certsDir, 'ca.crt'));
  tlsParent = pushToRegistry(inject('baseImage'), tlsRegistry.host);
});
afterAll(async () => {
  lan?.close();
  await tlsRegistry?.stop();
  if (certsDir) rmSync(certsDir, { recursive: true, force: true });
  await daemon?.stop();
});

/** podman's registries.conf with the registry at the network address marked insecure. */
function registriesConf(): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'zenbuild-registries-')), 'registries.conf');
  writeFileSync(file, `[[registry]]\nlocation = "${lan.host}"\ninsecure = true\n`);
  return file;
}

/** A pipeline on `parentImage`, pushing to a repository on `host`. */
function pipeline(host = lan.host, parentImage = parent) {
  const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-insecure-'));
  const name = `insecure${Math.random().toString(36).slice(2, 8)}`;
  writeFileSync(
    path.join(dir, 'pipeline.yaml'),
    JSON.stringify({
      name,
      settings: { docker: { parent_image: parentImage, environment: { RUN_ID: name } } },
    }),
  );
  writeFileSync(
    path.join(dir, 'stack.yaml'),
    JSON.stringify({
      name: 'office',
      components: { container_registry: { flavor: 'default', uri: `${host}/team` } },
    }),
  );
  const home = tempHome();
  // Not blocking this process: the forwarder at the network address answers from it.
  const build = (env: NodeJS.ProcessEnv) =>
    zenbuildAsync(
      [
        'build',
        path.join(dir, 'pipeline.yaml'),
        '--stack',
        path.join(dir, 'stack.yaml'),
        '--json',
        '--progress',
        'plain',
      ],
      { ZENBUILD_HOME: home, DOCKER_CONFIG: mkdtempSync(path.join(tmpdir(), 'zenbuild-dc-')), ...env },
      project,
    );
  return { build };
}

const client = new RegistryClient({
  env: { DOCKER_CONFIG: '/nonexistent-zenbuild' },
  engineInsecure: async () => true,
});

describe('a registry the engine treats as insecure', () => {
  it("is insecure to the Docker engines as the daemon's --insecure-registry says, and to podman as its registries.conf says", async () => {
    for (const engine of [
      new DockerEngine({ env: { DOCKER_HOST: daemon.host } }),
      new DockerCliEngine({ env: { DOCKER_HOST: daemon.host, PATH: process.env.PATH } }),
    ]) {
      expect(await engine.insecureRegistry(lan.host)).toBe(true);
      expect(await engine.insecureRegistry('192.0.2.200:5000')).toBe(false);
    }
    // The shared daemon has only the default 127.0.0.0/8.
    const shared = new DockerEngine({ env: {} });
    expect(await shared.insecureRegistry('127.0.0.1:5000')).toBe(true);
    expect(await shared.insecureRegistry(lan.host)).toBe(false);
    const podman = (env: NodeJS.ProcessEnv) => new PodmanEngine({ env: { PATH: process.env.PATH, ...env } });
    expect(await podman({ CONTAINERS_REGISTRIES_CONF: registriesConf() }).insecureRegistry(lan.host)).toBe(
      true,
    );
    const none = path.join(mkdtempSync(path.join(tmpdir(), 'zenbuild-registries-')), 'registries.conf');
    writeFileSync(none, '');
    expect(await podman({ CONTAINERS_REGISTRIES_CONF: none }).insecureRegistry(lan.host)).toBe(false);
  });

  it.each([
    ['docker', () => ({ DOCKER_HOST: daemon.host })],
    ['podman', () => ({ CONTAINERS_REGISTRIES_CONF: registriesConf() })],
  ] as const)(
    'is built on, pushed to and reused with %s, its digests looked up over http',
    async (engine, env) => {
      await expectBuiltPushedAndReused(engine, env(), lan.host, parent, client);
    },
  );
});

describe('a registry with a private CA in /etc/docker/certs.d', () => {
  it.each(['docker', 'podman'] as const)(
    'is built on, pushed to and reused with %s, its digests looked up with that CA',
    async (engine) => {
      // No engine help and no setting: the client reads the CA where the engines do.
      const trusting = new RegistryClient({ env: { DOCKER_CONFIG: '/nonexistent-zenbuild' } });
      await expectBuiltPushedAndReused(engine, {}, tlsRegistry.host, tlsParent, trusting);
    },
  );
});

/**
 * `zenbuild build` on `parentImage`, pushing to `host`: no warning (the parent's digest was looked up),
 * the recorded digests are the registry's as `registry` reads them, and a second run is a reuse (the
 * pushed image was found there) that builds nothing.
 */
async function expectBuiltPushedAndReused(
  engine: 'docker' | 'podman',
  env: NodeJS.ProcessEnv,
  host: string,
  parentImage: string,
  registry: RegistryClient,
) {
  const { build } = pipeline(host, parentImage);
  const first = await build({ ZENML_CONTAINER_ENGINE: engine, ...env });
  expect(first.stderr).not.toMatch(/cannot be reached|could not look up|^warning:/im);
  expect(first.code, first.stderr).toBe(0);
  // Docker's BuildKit pulls over verified https whatever the daemon's registry trust says (moby#41080):
  // such a build runs on the legacy builder, and says so.
  if (engine === 'docker') expect(first.stderr).toContain(`legacy builder: it pulls from ${host}`);
  const record = JSON.parse(first.stdout);
  const image = Object.values<{ image: string; digest: string; parentDigest: string }>(record.images)[0];
  expect(image?.parentDigest).toBe(await registry.manifestDigest(parentImage));
  expect(image?.image.startsWith(`${host}/team/`)).toBe(true);
  expect(await registry.manifestDigest(image?.image ?? '')).toBe(image?.digest);
  const second = await build({ ZENML_CONTAINER_ENGINE: engine, ...env });
  expect(second.code).toBe(0);
  expect(second.stderr).toContain(`Reusing build ${record.id}`);
}

describe('a podman build that pulls from a plain-http registry and a TLS one at once', () => {
  it('marks only the plain-http registry insecure, so the TLS one is still verified', async () => {
    // --tls-verify=false would cover both registries: zenbuild gives podman a registries.conf instead.
    const loopbackParent = parent.replace(lan.host, open);
    const dockerfile = `FROM ${loopbackParent}\nCOPY --from=${tlsParent} /bin/busybox /copied/busybox\nRUN /copied/busybox true\n`;
    const image = `zenbuild-test/podman-mixed-pulls:${Math.random().toString(36).slice(2, 8)}`;
    const request = await buildRequest(image, dockerfile, {
      pulls: imagesPulledBy(dockerfile),
      options: { pull: true },
    });
    expect(request.pulls).toEqual([loopbackParent, tlsParent]);
    const engine = new PodmanEngine({
      env: { PATH: process.env.PATH, DOCKER_CONFIG: mkdtempSync(path.join(tmpdir(), 'zenbuild-dc-')) },
    });
    await engine.build(request, runContext());
    expect(runInPodman(image, ['sh', '-c', 'test -x /copied/busybox && echo copied'])).toBe('copied\n');
  });

  it('writes that registries.conf as podman reads it: the main file kept, the hosts it lacks added', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-registries-'));
    const main = path.join(dir, 'main.conf');
    writeFileSync(
      main,
      // A host named elsewhere (here as a search registry) still gets its table.
      'unqualified-search-registries = ["docker.io", "127.0.0.1:7001"]\n[[registry]]\nlocation = "127.0.0.1:7000"\ninsecure = false\n',
    );
    const env = { PATH: process.env.PATH, CONTAINERS_REGISTRIES_CONF: main };
    const file = await registriesConfWithInsecure(env, ['127.0.0.1:7000', '127.0.0.1:7001'], dir);
    expect(file).toBeDefined();
    // podman's own reading of it: the user's entry kept as it was, the missing host added insecure.
    const info = spawnSync('podman', ['info', '--format', '{{json .Registries}}'], {
      env: { ...env, CONTAINERS_REGISTRIES_CONF: file },
      encoding: 'utf8',
    });
    expect(info.status, info.stderr).toBe(0);
    const registries = JSON.parse(info.stdout);
    expect(registries['127.0.0.1:7000'].Insecure).toBe(false);
    expect(registries['127.0.0.1:7001'].Insecure).toBe(true);
    expect(registries.search).toEqual(['docker.io', '127.0.0.1:7001']);
    // The version 1 format cannot take a [[registry]] table: no file, and the build goes on without one.
    writeFileSync(main, '[registries.insecure]\nregistries = []\n');
    expect(await registriesConfWithInsecure(env, ['127.0.0.1:7001'], dir)).toBeUndefined();
  });
});
