import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  buildRequest,
  cancelledAfter,
  containerEngineConformance,
  failure,
  imageBuilderConformance,
  runContext,
  stalledContext,
} from '@zenbuild/conformance';
import {
  type ContainerRegistry,
  hashContext,
  selectEngine,
  walkContext,
  type ZenbuildError,
} from '@zenbuild/core';
import {
  buildContextSource,
  imagesPulledBy,
  LocalImageBuilder,
  RegistryClient,
} from '@zenbuild/core/backend';
import { PodmanEngine, toBuildFlags, UnpackedContexts } from '@zenbuild/podman';
import { describe, expect, inject, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';
import { imageHistory, runInPodman, savedImage } from '../infra/dockerd.js';

// Unpacked contexts go to a throwaway directory, not the home of whoever runs the tests.
const { open } = inject('registries');
const contexts = new UnpackedContexts(mkdtempSync(path.join(tmpdir(), 'zenbuild-podman-contexts-')), 2);
// An empty docker config: the tests' credentials come from the stack registry only (podman reads it too).
const engine = new PodmanEngine({
  env: { PATH: process.env.PATH, DOCKER_CONFIG: mkdtempSync(path.join(tmpdir(), 'zenbuild-dc-')) },
  contexts,
});

containerEngineConformance(
  'podman',
  () => ({
    engine,
    baseImage: inject('podmanBaseImage'),
    run: runInPodman,
    withEnv: (env) => new PodmanEngine({ env, contexts }),
    history: (image) => imageHistory('podman', image),
    save: (image) => savedImage('podman', image),
  }),
  { registries: inject('registries'), capabilities: { buildkit: true } },
);

imageBuilderConformance(
  'local-podman',
  () => ({
    builder: new LocalImageBuilder(engine),
    baseImage: inject('podmanBaseImage'),
    run: runInPodman,
  }),
  { registries: inject('registries') },
);

describe('PodmanEngine specifics', () => {
  const { auth, user, password } = inject('registries');
  const authFile = (username: string, secret: string) => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'zenbuild-authfile-')), 'auth.json');
    const encoded = Buffer.from(`${username}:${secret}`).toString('base64');
    writeFileSync(file, JSON.stringify({ auths: { [auth]: { auth: encoded } } }));
    return file;
  };
  const builtForAuth = async () => {
    const image = `${auth}/zenbuild-test/podman-authfile:${Math.random().toString(36).slice(2, 8)}`;
    await engine.build(
      await buildRequest(image, `FROM ${inject('podmanBaseImage')}\nRUN echo ${image} > /id\n`),
      runContext(),
    );
    return image;
  };
  const registry: ContainerRegistry = { flavor: 'default', name: 'auth', uri: auth };
  const authedClient = new RegistryClient({
    env: { DOCKER_CONFIG: '/nonexistent-zenbuild' },
    credentials: { [auth]: { username: user, password } },
  });
  const podmanWith = (env: NodeJS.ProcessEnv) =>
    new PodmanEngine({
      env: {
        PATH: process.env.PATH,
        DOCKER_CONFIG: mkdtempSync(path.join(tmpdir(), 'zenbuild-dc-')),
        ...env,
      },
      contexts,
    });

  it("pushes with podman's own REGISTRY_AUTH_FILE when the stack gives no credentials", async () => {
    const image = await builtForAuth();
    const digest = await podmanWith({ REGISTRY_AUTH_FILE: authFile(user, password) }).push(
      image,
      registry,
      runContext(),
    );
    expect(await authedClient.manifestDigest(image)).toBe(digest);
    // Without the file the same push is refused: the file really was what logged podman in.
    const refused = await failure(podmanWith({}).push(image, registry, runContext()));
    expect(refused.code).toBe('NOT_AVAILABLE');
  });

  it('lets the stack registry credentials win over a REGISTRY_AUTH_FILE with stale ones', async () => {
    const image = await builtForAuth();
    const digest = await podmanWith({ REGISTRY_AUTH_FILE: authFile(user, 'stale-pass') }).push(
      image,
      { ...registry, credentials: { username: user, password } },
      runContext(),
    );
    expect(await authedClient.manifestDigest(image)).toBe(digest);
  });

  it('keeps REGISTRY_AUTH_FILE for a private parent when the stack registry brings its own credentials', async () => {
    const parent = await builtForAuth();
    await podmanWith({}).push(
      parent,
      { ...registry, credentials: { username: user, password } },
      runContext(),
    );
    const child = `zenbuild-test/podman-authfile-child:${Math.random().toString(36).slice(2, 8)}`;
    // The stack pushes to the open registry with credentials of its own; the parent is on the auth
    // registry, and only the user's REGISTRY_AUTH_FILE can log in there.
    const stack: ContainerRegistry = {
      flavor: 'default',
      name: 'open',
      uri: open,
      credentials: { username: 'ci', password: 'ignored-by-the-open-registry' },
    };
    const request = await buildRequest(child, `FROM ${parent}\nRUN cat /id\n`, {
      parentImage: parent,
      registry: stack,
      options: { pull: true },
    });
    await podmanWith({ REGISTRY_AUTH_FILE: authFile(user, password) }).build(request, runContext());
    expect(runInPodman(child, ['cat', '/id'])).toBe(`${parent}\n`);
  });

  it('keeps what `podman login` stored for a private parent when the stack registry brings its own credentials', async () => {
    const parent = await builtForAuth();
    await podmanWith({}).push(
      parent,
      { ...registry, credentials: { username: user, password } },
      runContext(),
    );
    // `podman login` writes to podman's primary auth file, under XDG_RUNTIME_DIR: a throwaway one here.
    const runtime = mkdtempSync(path.join(tmpdir(), 'zenbuild-xdg-runtime-'));
    const env = { XDG_RUNTIME_DIR: runtime };
    const login = spawnSync(
      'podman',
      ['login', '--tls-verify=false', '--username', user, '--password-stdin', auth],
      { input: password, env: { PATH: process.env.PATH, ...env } },
    );
    expect(login.status).toBe(0);
    expect(readdirSync(path.join(runtime, 'containers'))).toContain('auth.json');
    const stack: ContainerRegistry = {
      flavor: 'default',
      name: 'open',
      uri: open,
      credentials: { username: 'ci', password: 'ignored-by-the-open-registry' },
    };
    const child = `zenbuild-test/podman-login-child:${Math.random().toString(36).slice(2, 8)}`;
    const request = await buildRequest(child, `FROM ${parent}\nRUN cat /id\n`, {
      parentImage: parent,
      registry: stack,
      options: { pull: true },
    });
    await podmanWith(env).build(request, runContext());
    expect(runInPodman(child, ['cat', '/id'])).toBe(`${parent}\n`);
    // Without the login (a fresh runtime directory) the forced pull is refused: the login got it.
    const fresh = { XDG_RUNTIME_DIR: mkdtempSync(path.join(tmpdir(), 'zenbuild-xdg-runtime-')) };
    await expect(podmanWith(fresh).build(request, runContext())).rejects.toThrow(
      /unauthorized|authentication/i,
    );
  });

  it("mounts a private image with RUN --mount=from= using the docker config's credentials for its registry", async () => {
    const tools = await builtForAuth();
    await podmanWith({}).push(
      tools,
      { ...registry, credentials: { username: user, password } },
      runContext(),
    );
    const config = mkdtempSync(path.join(tmpdir(), 'zenbuild-dc-'));
    const encoded = Buffer.from(`${user}:${password}`).toString('base64');
    writeFileSync(path.join(config, 'config.json'), JSON.stringify({ auths: { [auth]: { auth: encoded } } }));
    // The stack's registry is the open one, with credentials of its own: podman then reads only the
    // auth file zenbuild writes, which must carry the docker config's entry for the tools' registry.
    // The plan lists the mounted image among the pulls, so its digest is in the build checksum and
    // its loopback registry counts for the plain-http decision (podman 4.3 cannot find a mounted
    // image from such a registry without --tls-verify=false: "no stage or image found").
    const stack: ContainerRegistry = {
      flavor: 'default',
      name: 'open',
      uri: open,
      credentials: { username: 'ci', password: 'ignored-by-the-open-registry' },
    };
    const dockerfile = `FROM ${inject('podmanBaseImage')}\nRUN --mount=type=bind,from=${tools},target=/tools cp /tools/id /mounted-id\n`;
    const child = `zenbuild-test/podman-mount-child:${Math.random().toString(36).slice(2, 8)}`;
    const request = await buildRequest(child, dockerfile, {
      registry: stack,
      pulls: imagesPulledBy(dockerfile),
    });
    expect(request.pulls).toContain(tools);
    // Gone from local storage: the mount must pull it from the registry.
    spawnSync('podman', ['rmi', '--force', tools]);
    await podmanWith({ DOCKER_CONFIG: config }).build(request, runContext());
    expect(runInPodman(child, ['cat', '/mounted-id'])).toBe(`${tools}\n`);
  });

  it('says how to name a short-name parent that podman cannot resolve, as docker would have', async () => {
    const parent = `zenbuild-test/nowhere-${Math.random().toString(36).slice(2, 8)}:1`;
    const error = await failure(
      engine.build(await buildRequest('zenbuild-test/short-name-child:1', `FROM ${parent}\n`), runContext()),
    );
    expect(error.code).toBe('BUILD_FAILED');
    expect(error.message).toContain(`short-name "${parent}" did not resolve`);
    expect(error.message).toContain(
      `write the full name, \`docker.io/${parent}\` for Docker Hub, or \`localhost/${parent}\` for an image built or loaded into podman here`,
    );
  });

  it('maps every build option to a podman flag, docker format first', () => {
    expect(
      toBuildFlags({
        buildArgs: { A: '1' },
        labels: { team: 'ml' },
        target: 'run',
        platform: 'linux/amd64',
        noCache: true,
        pull: false,
        rm: true,
        forceRm: false,
        network: 'host',
        cacheFrom: ['reg/cache'],
        shmSize: 1024,
        extraHosts: { db: '10.0.0.1' },
        squash: true,
        isolation: 'chroot',
      }),
    ).toEqual([
      '--format',
      'docker',
      // The value goes in the CLI's environment (buildArgsThroughEnv), never on its command line.
      '--build-arg',
      'A',
      '--label',
      'team=ml',
      '--target',
      'run',
      '--platform',
      'linux/amd64',
      '--no-cache',
      '--pull=never',
      '--rm=true',
      '--force-rm=false',
      '--network',
      'host',
      '--cache-from',
      'reg/cache',
      '--shm-size',
      '1024',
      '--add-host',
      'db:10.0.0.1',
      '--squash',
      '--isolation',
      'chroot',
    ]);
    expect(() => toBuildFlags({ isolation: 'hyperv' })).toThrow(/only as oci, rootless or chroot/);
  });

  it('refuses extra_hosts with network none before building: podman writes no /etc/hosts then', async () => {
    expect(() => toBuildFlags({ network: 'none', extraHosts: { db: '10.0.0.1' } })).toThrow(
      'The podman engine cannot honour `extra_hosts` with `network: none`',
    );
    expect(toBuildFlags({ network: 'none', extraHosts: {} })).toContain('none');
    // Why: what podman itself does with both flags. If a podman version writes the hosts, this fails
    // and the refusal can go.
    const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-podman-hosts-'));
    writeFileSync(
      path.join(dir, 'Dockerfile'),
      `FROM ${inject('podmanBaseImage')}\nRUN cat /etc/hosts > /hosts-seen 2>&1 || echo missing > /hosts-seen\n`,
    );
    const tag = `zenbuild-test/podman-hosts:${Math.random().toString(36).slice(2, 8)}`;
    const built = spawnSync(
      'podman',
      ['build', '--no-cache', '--network', 'none', '--add-host', 'db:10.0.0.1', '-t', tag, dir],
      { encoding: 'utf8' },
    );
    expect(built.status, built.stderr).toBe(0);
    expect(runInPodman(tag, ['cat', '/hosts-seen'])).toBe('missing\n');
  });

  it('takes cache_from as a repository of cache images, and refuses an image with a tag before building', async () => {
    expect(() => toBuildFlags({ cacheFrom: ['127.0.0.1:5000/team/cache:latest'] })).toThrow(
      'write `127.0.0.1:5000/team/cache` instead of `127.0.0.1:5000/team/cache:latest`',
    );
    // What podman itself says of a tag, once the build runs: "repository must contain neither a tag nor
    // digest". A repository with no cache images in it yet is a plain build.
    const image = `zenbuild-test/podman-cache-from:${Math.random().toString(36).slice(2, 8)}`;
    const request = await buildRequest(
      image,
      `FROM ${inject('podmanBaseImage')}\nRUN echo ${image} > /id\n`,
      {
        options: { cacheFrom: [`${open}/zenbuild-test/podman-cache`] },
      },
    );
    await engine.build(request, runContext());
    expect(runInPodman(image, ['cat', '/id'])).toBe(`${image}\n`);
  });

  it('builds a context from the copy it kept after building it twice', async () => {
    const kept = new UnpackedContexts(mkdtempSync(path.join(tmpdir(), 'zenbuild-podman-contexts-')), 1);
    const own = new PodmanEngine({ env: { PATH: process.env.PATH }, contexts: kept });
    const image = `zenbuild-test/podman-unpacked:${Math.random().toString(36).slice(2, 8)}`;
    const request = await buildRequest(image, `FROM ${inject('podmanBaseImage')}\nCOPY app.py /app.py\n`);
    const phases = async (req = request) => {
      const run = runContext();
      const { imageId } = await own.build(req, run);
      const detail = run.events.flatMap((e) => (e.type === 'phase' && e.phase === 'build' ? [e.detail] : []));
      return { imageId, detail };
    };
    const contextsKept = () => readdirSync(kept.dir).filter((name) => /^[0-9a-f]{64}$/.test(name));
    const first = await phases();
    expect(first.detail).toEqual(['podman, context written']);
    expect(contextsKept()).toEqual([]);
    const second = await phases();
    expect(second.detail).toEqual(['podman, context written']);
    expect(contextsKept()).toEqual([request.context.hash]);
    const third = await phases();
    expect(third.detail).toEqual(['podman, context unchanged since an earlier build']);
    expect(third.imageId).toBe(first.imageId);
    expect(runInPodman(image, ['cat', '/app.py'])).toBe('print("hello from the context")\n');
    // One context kept; another one, built twice, evicts it.
    const other = await buildRequest(image, `FROM ${inject('podmanBaseImage')}\nCOPY app.py /other.py\n`);
    await phases(other);
    await phases(other);
    expect(contextsKept()).toEqual([other.context.hash]);
  });

  it('builds every file of core’s context: a .containerignore among them is copied, not applied again', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'zenbuild-engine-'));
    mkdirSync(path.join(root, 'sub'));
    for (const file of ['a.py', 'b.txt', 'sub/s.py']) writeFileSync(path.join(root, file), file);
    writeFileSync(path.join(root, '.containerignore'), 'a.py\nsub\n');
    const walked = await walkContext({
      root,
      files: [{ path: 'Dockerfile', content: `FROM ${inject('podmanBaseImage')}\nCOPY . /ctx/\n` }],
    });
    const { hash } = await hashContext(walked.entries);
    const image = `zenbuild-test/podman-containerignore:${Math.random().toString(36).slice(2, 8)}`;
    await engine.build(
      {
        imageName: image,
        context: buildContextSource(walked.entries, hash),
        dockerfile: 'Dockerfile',
        options: {},
      },
      runContext(),
    );
    const inImage = runInPodman(image, ['find', '/ctx', '-type', 'f']).trim().split('\n').sort();
    expect(inImage).toEqual(
      walked.entries
        .filter((e) => e.type === 'file')
        .map((e) => `/ctx/${e.path}`)
        .sort(),
    );
    expect(inImage).toContain('/ctx/a.py');
  });

  it('keeps no unpacked copy of a context whose file changed after planning', async () => {
    const kept = new UnpackedContexts(mkdtempSync(path.join(tmpdir(), 'zenbuild-podman-contexts-')), 2);
    const own = new PodmanEngine({ env: { PATH: process.env.PATH }, contexts: kept });
    const root = mkdtempSync(path.join(tmpdir(), 'zenbuild-engine-'));
    writeFileSync(path.join(root, 'z.py'), 'z = 1\n');
    const walked = await walkContext({
      root,
      files: [{ path: 'Dockerfile', content: `FROM ${inject('podmanBaseImage')}\nCOPY . /ctx/\n` }],
    });
    const { hash } = await hashContext(walked.entries);
    writeFileSync(path.join(root, 'z.py'), 'z = 2  # edited after the plan\n');
    const request = {
      imageName: 'zenbuild-test/podman-changed:1',
      context: buildContextSource(walked.entries, hash),
      dockerfile: 'Dockerfile',
      options: {},
    };
    await expect(own.build(request, runContext())).rejects.toThrow(
      /changed after the build context was planned/,
    );
    expect(readdirSync(kept.dir)).toEqual([]);
  });

  it('stops writing a context when the build is cancelled, and keeps nothing of it', async () => {
    const kept = new UnpackedContexts(mkdtempSync(path.join(tmpdir(), 'zenbuild-podman-contexts-')), 2);
    const own = new PodmanEngine({ env: { PATH: process.env.PATH }, contexts: kept });
    const { error } = await cancelledAfter(300, (signal) =>
      own.build(
        {
          imageName: 'zenbuild-test/podman-cancelled:1',
          context: stalledContext(),
          dockerfile: 'Dockerfile',
          options: {},
        },
        { ...runContext(), signal },
      ),
    );
    expect((error as ZenbuildError).code).toBe('CANCELLED');
    expect(readdirSync(kept.dir)).toEqual([]);
  });

  it('checks podman and inspects images without loading execa (a reuse hit builds nothing)', () => {
    // In a process of its own, from the built package as a user runs it. Node's ESM debug log shows
    // every module loaded. The package's bundle carries execa as a chunk of its own, loaded on first
    // use; the control at the end (a push, which needs execa) proves the probe sees it then.
    const script = `
      import { PodmanEngine } from '@zenbuild/podman';
      const engine = new PodmanEngine({ env: { PATH: process.env.PATH, ZENBUILD_HOME: ${JSON.stringify(mkdtempSync(path.join(tmpdir(), 'zenbuild-home-')))} } });
      const availability = await engine.check();
      const exists = await engine.imageExists(${JSON.stringify(inject('podmanBaseImage'))});
      const parent = await engine.localImage(${JSON.stringify(inject('podmanBaseImage'))});
      console.log(JSON.stringify({ available: availability.available, exists, parent: parent?.id }));
      console.error('--- control ---');
      await engine.push('localhost/zenbuild-test/never-built:1', undefined, { signal: AbortSignal.timeout(30_000), emit() {} }).catch(() => {});`;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: `${repoRoot}/packages/podman`,
      encoding: 'utf8',
      env: { ...process.env, NODE_DEBUG: 'esm' },
    });
    expect(JSON.parse(result.stdout)).toEqual({
      available: true,
      exists: true,
      parent: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    });
    const [queries, control] = result.stderr.split('--- control ---');
    // node_modules/execa/... from the sources, dist/bundle/chunks/execa-<hash>.js from the bundle.
    const execa = /\/execa(\/|-[\w-]+\.js)/;
    expect(control).toMatch(execa);
    expect(queries).not.toMatch(execa);
  });

  it('reports a missing podman binary', async () => {
    const availability = await new PodmanEngine({ binary: 'podman-does-not-exist' }).check();
    expect(availability).toMatchObject({
      available: false,
      reason: expect.stringContaining('is not on PATH'),
    });
  });

  it('is what core selects when ZENML_CONTAINER_ENGINE=podman, and docker is never loaded', async () => {
    const loaded: string[] = [];
    const selection = await selectEngine({
      env: { ZENML_CONTAINER_ENGINE: 'podman', PATH: process.env.PATH },
      importer: (specifier) => {
        loaded.push(specifier);
        return import(specifier);
      },
    });
    expect(selection.name).toBe('podman');
    expect(selection.reason).toMatch(/^ZENML_CONTAINER_ENGINE=podman pins it; podman 4\.\d+\.\d+ works$/);
    expect(loaded).toEqual(['@zenbuild/podman']);
  });
});
