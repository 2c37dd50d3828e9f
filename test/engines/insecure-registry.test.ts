// A registry off loopback that speaks plain http, as an office registry without TLS does. The engines
// pull from it and push to it because their own configuration lists it as insecure (dockerd's
// `--insecure-registry`, podman's registries.conf); zenbuild's registry client asks the engine, and then
// looks up the parent's digest and checks the recorded images for reuse the way the engine speaks to it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RegistryClient } from '@zenbuild/core';
import { DockerCliEngine, DockerEngine } from '@zenbuild/docker';
import { PodmanEngine } from '@zenbuild/podman';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { repoRoot, tempHome, zenbuildAsync } from '../helpers/cli.js';
import { pushToRegistry, startScratchDockerd } from '../infra/dockerd.js';
import { forwardFromNetworkAddress, networkAddress } from '../infra/network-forward.js';

const { open } = inject('registries');
const project = path.join(repoRoot, 'test');
let lan: Awaited<ReturnType<typeof forwardFromNetworkAddress>>;
let daemon: Awaited<ReturnType<typeof startScratchDockerd>>;
/** The base image in the open registry, named through the network address. */
let parent: string;

beforeAll(async () => {
  lan = await forwardFromNetworkAddress(open);
  parent = pushToRegistry(inject('baseImage'), open).replace(open, lan.host);
  daemon = await startScratchDockerd([`--insecure-registry=${networkAddress()}/32`]);
});
afterAll(async () => {
  lan?.close();
  await daemon?.stop();
});

/** podman's registries.conf with the registry at the network address marked insecure. */
function registriesConf(): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'zenbuild-registries-')), 'registries.conf');
  writeFileSync(file, `[[registry]]\nlocation = "${lan.host}"\ninsecure = true\n`);
  return file;
}

/** A pipeline on the parent at the network address, pushing to a repository there. */
function pipeline() {
  const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-insecure-'));
  const name = `insecure${Math.random().toString(36).slice(2, 8)}`;
  writeFileSync(
    path.join(dir, 'pipeline.yaml'),
    JSON.stringify({ name, settings: { docker: { parent_image: parent, environment: { RUN_ID: name } } } }),
  );
  writeFileSync(
    path.join(dir, 'stack.yaml'),
    JSON.stringify({
      name: 'office',
      components: { container_registry: { flavor: 'default', uri: `${lan.host}/team` } },
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
        'quiet',
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
      const { build } = pipeline();
      const first = await build({ ZENML_CONTAINER_ENGINE: engine, ...env() });
      expect(first.stderr).not.toMatch(/cannot be reached|could not look up|warning/i);
      expect(first.code, first.stderr).toBe(0);
      const record = JSON.parse(first.stdout);
      const image = Object.values<{ image: string; digest: string; parentDigest: string }>(record.images)[0];
      // The parent's digest came from the registry, through the engine's way of speaking to it.
      expect(image?.parentDigest).toBe(await client.manifestDigest(parent));
      expect(image?.image.startsWith(`${lan.host}/team/`)).toBe(true);
      expect(await client.manifestDigest(image?.image ?? '')).toBe(image?.digest);
      // The second run checks the pushed image over http too, and builds nothing.
      const second = await build({ ZENML_CONTAINER_ENGINE: engine, ...env() });
      expect(second.code).toBe(0);
      expect(second.stderr).toContain(`Reusing build ${record.id}`);
    },
  );
});
