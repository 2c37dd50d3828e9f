import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  buildRequest,
  containerEngineConformance,
  failure,
  imageBuilderConformance,
  runContext,
  unique,
} from '@zenbuild/conformance';
import { hashContext, selectEngine, walkContext, type ZenbuildError } from '@zenbuild/core';
import { buildContextSource, LocalImageBuilder } from '@zenbuild/core/backend';
import { DockerCliEngine, DockerEngine, engine as dockerFlavor, toDockerCliFlags } from '@zenbuild/docker';
import { describe, expect, inject, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';
import { imageHistory, inspectLabel, runInImage, savedImage } from '../infra/dockerd.js';

const baseImage = inject('baseImage');
const engine = new DockerEngine({ env: { DOCKER_CONFIG: '/nonexistent-zenbuild', PATH: process.env.PATH } });

const inspect = {
  history: (image: string) => imageHistory('docker', image),
  save: (image: string) => savedImage('docker', image),
};

// The Engine API builds with BuildKit (the daemon has it).
containerEngineConformance(
  'docker',
  () => ({
    engine,
    baseImage,
    run: runInImage,
    withEnv: (env) => new DockerEngine({ env }),
    ...inspect,
  }),
  { registries: inject('registries'), capabilities: { buildkit: true } },
);

// DOCKER_BUILDKIT=0 keeps the legacy builder over the same API.
const legacyEnv = { DOCKER_CONFIG: '/nonexistent-zenbuild', PATH: process.env.PATH, DOCKER_BUILDKIT: '0' };
containerEngineConformance(
  'docker-legacy',
  () => ({
    engine: new DockerEngine({ env: legacyEnv }),
    baseImage,
    run: runInImage,
    withEnv: (env) => new DockerEngine({ env: { ...env, DOCKER_BUILDKIT: '0' } }),
    ...inspect,
  }),
  { registries: inject('registries'), features: ['build', 'errors', 'cancellation', 'buildkit'] },
);

imageBuilderConformance(
  'local-docker',
  () => ({
    builder: new LocalImageBuilder(engine),
    baseImage,
    run: runInImage,
  }),
  { registries: inject('registries') },
);

// ZenML's use_subprocess_call: the same behaviour through the docker CLI.
const cliEngine = new DockerCliEngine({ env: { PATH: process.env.PATH } });
containerEngineConformance(
  'docker-cli',
  () => ({
    engine: cliEngine,
    baseImage,
    run: runInImage,
    withEnv: (env) => new DockerCliEngine({ env }),
    ...inspect,
  }),
  { registries: inject('registries') },
);

// Docker 20.10's own client builds with BuildKit when DOCKER_BUILDKIT=1 (the CLI first on PATH has no buildx).
const buildkitCli = (env: NodeJS.ProcessEnv) =>
  new DockerCliEngine({ env: { ...env, DOCKER_BUILDKIT: '1' }, binary: '/usr/bin/docker' });
containerEngineConformance(
  'docker-cli-buildkit',
  () => ({
    engine: buildkitCli({ PATH: process.env.PATH }),
    baseImage,
    run: runInImage,
    withEnv: buildkitCli,
    ...inspect,
  }),
  {
    registries: inject('registries'),
    features: ['build', 'errors', 'cancellation', 'buildkit'],
    capabilities: { buildkit: true },
  },
);

describe('DockerCliEngine specifics', () => {
  it('is what the docker flavor creates in subprocess mode', () => {
    expect(dockerFlavor.create({ subprocess: true })).toBeInstanceOf(DockerCliEngine);
    expect(dockerFlavor.create({})).toBeInstanceOf(DockerEngine);
  });

  it('runs the docker CLI with exactly the environment it is given, not this process’s on top', async () => {
    // A DOCKER_HOST in this process that answers nothing: given an environment without one, the CLI
    // must reach the default socket.
    process.env.DOCKER_HOST = 'tcp://127.0.0.1:9';
    try {
      const availability = await new DockerCliEngine({ env: { PATH: process.env.PATH } }).check();
      expect(availability.reason).not.toContain('127.0.0.1:9');
      expect(availability.available).toBe(true);
    } finally {
      delete process.env.DOCKER_HOST;
    }
  });

  it('keeps the CLI’s own builder, and says which: BuildKit with DOCKER_BUILDKIT=1, else the legacy one', async () => {
    // The Debian CLI (20.10) has BuildKit built in; the newer CLI first on PATH has no buildx here.
    const buildkit = buildkitCli({ PATH: process.env.PATH });
    expect((await buildkit.check()).reason).toMatch(/subprocess mode; BuildKit: DOCKER_BUILDKIT=1\)$/);
    const legacy = new DockerCliEngine({ env: { PATH: process.env.PATH } });
    expect((await legacy.check()).reason).toMatch(
      /the legacy builder: no buildx, and DOCKER_BUILDKIT is not set\)$/,
    );
    // The legacy builder refuses a BuildKit Dockerfile, with Docker's reason.
    const dockerfile = `FROM ${baseImage}\nRUN --mount=type=cache,target=/cache echo ${unique()}\n`;
    const error = await failure(
      legacy.build(
        await buildRequest(`zenbuild-test/docker-cli-legacy:${unique()}`, dockerfile),
        runContext(),
      ),
    );
    expect(error.code).toBe('BUILD_FAILED');
    expect(error.message).toContain('the --mount option requires BuildKit');
  });

  it('maps every option it supports to a docker build flag, and refuses squash', () => {
    expect(
      toDockerCliFlags({
        buildArgs: { A: '1' },
        labels: { team: 'ml' },
        target: 'run',
        noCache: true,
        pull: true,
        rm: false,
        network: 'host',
        cacheFrom: ['reg/cache'],
        shmSize: 64,
        extraHosts: { db: '10.0.0.1' },
      }),
    ).toEqual([
      // The value goes in the CLI's environment (buildArgsThroughEnv), never on its command line.
      '--build-arg',
      'A',
      '--label',
      'team=ml',
      '--target',
      'run',
      '--no-cache',
      '--pull',
      '--rm=false',
      '--network',
      'host',
      '--cache-from',
      'reg/cache',
      '--shm-size',
      '64',
      '--add-host',
      'db:10.0.0.1',
    ]);
    expect(() => toDockerCliFlags({ squash: true })).toThrow(/experimental daemon/);
  });
});

describe('DockerEngine specifics', () => {
  it('says which daemon answered, its version, and which builder runs', async () => {
    expect((await engine.check()).reason).toMatch(
      /Docker daemon at unix:\/\/\/var\/run\/docker\.sock \(the default socket\) answered \(Docker 20\.10\.[^,]+, API 1\.41\)/,
    );
    // The daemon (API 1.41, Linux) has BuildKit; DOCKER_BUILDKIT=0 asks for the legacy builder.
    expect((await engine.check()).reason).toMatch(
      /it builds with BuildKit over the Engine API \(the daemon has it\)$/,
    );
    expect((await new DockerEngine({ env: legacyEnv }).check()).reason).toMatch(
      /it builds with the legacy builder over the Engine API \(DOCKER_BUILDKIT=0\)$/,
    );
  });

  it('reports BuildKit’s steps as events, as `docker build --progress=plain` prints them', async () => {
    const image = `zenbuild-test/docker-progress:${unique()}`;
    const context = runContext();
    const mark = unique();
    await engine.build(
      await buildRequest(image, `FROM ${baseImage}\nRUN echo first-${mark} && echo second-${mark}\n`, {
        options: { labels: { team: 'ml' } },
      }),
      context,
    );
    expect(inspectLabel(image, 'team')).toBe('ml');
    const lines = context.events.flatMap((e) => (e.type === 'log' ? [e.line] : []));
    const step = lines.find((line) => /^#\d+ \[2\/2\] RUN echo first-/.test(line));
    expect(step).toBeDefined();
    const number = step?.split(' ')[0];
    // The step's output, then its end, under the step's number; the output's lines apart.
    expect(lines).toContain(`${number} first-${mark}`);
    expect(lines).toContain(`${number} second-${mark}`);
    expect(lines.some((line) => line.startsWith(`${number} DONE `))).toBe(true);
    // A second build of the same step is cached.
    const again = runContext();
    await engine.build(
      await buildRequest(
        `${image}-again`,
        `FROM ${baseImage}\nRUN echo first-${mark} && echo second-${mark}\n`,
      ),
      again,
    );
    const cached = again.events.flatMap((e) => (e.type === 'log' ? [e.line] : []));
    const cachedStep = cached.find((line) => /\[2\/2\] RUN echo first-/.test(line))?.split(' ')[0];
    expect(cached).toContain(`${cachedStep} CACHED`);
    expect(cached.join('\n')).not.toContain(`${cachedStep} first-${mark}`);
  });

  it('sends the context file by file, and only what changed since the last build of the image', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'zenbuild-filesync-'));
    for (let i = 0; i < 50; i++) writeFileSync(path.join(root, `m${i}.py`), `# ${i}\n${'x'.repeat(10_000)}`);
    const image = `zenbuild-test/docker-filesync:${unique()}`;
    const dockerfile = `FROM ${baseImage}\nCOPY . /ctx/\n`;
    const sent = async () => {
      const walked = await walkContext({ root, files: [{ path: 'Dockerfile', content: dockerfile }] });
      const { hash } = await hashContext(walked.entries);
      const run = runContext();
      await engine.build(
        {
          imageName: image,
          context: buildContextSource(walked.entries, hash),
          dockerfile: 'Dockerfile',
          options: {},
        },
        run,
      );
      const done = run.events.filter(
        (e) => e.type === 'progress' && e.verb === 'sent' && e.total !== undefined,
      );
      return done.map((e) => (e.type === 'progress' ? e.current : -1));
    };
    // The first build of this image sends every file (about 500 KB); the next one nothing.
    expect((await sent())[0]).toBeGreaterThan(500_000);
    expect(await sent()).toEqual([0]);
    // One file changed, with the same size: that file alone, and the image has it.
    writeFileSync(path.join(root, 'm7.py'), `# 7\n${'y'.repeat(10_000)}`);
    expect(await sent()).toEqual([10_004]);
    expect(runInImage(image, ['sh', '-c', 'head -c 6 /ctx/m7.py | tail -c 2'])).toBe('yy');
  });

  it('reports the legacy builder’s steps with DOCKER_BUILDKIT=0', async () => {
    const context = runContext();
    await new DockerEngine({ env: legacyEnv }).build(
      await buildRequest(`zenbuild-test/docker-legacy-steps:${unique()}`, `FROM ${baseImage}\nRUN true\n`),
      context,
    );
    expect(context.events.some((e) => e.type === 'log' && /^Step 1\/\d+ : FROM /.test(e.line))).toBe(true);
  });

  it('builds a shm_size with the legacy builder, which honours it, and says so in the build phase; with secrets it refuses', async () => {
    const context = runContext();
    await engine.build(
      await buildRequest(
        `zenbuild-test/docker-shm:${unique()}`,
        `FROM ${baseImage}\nRUN echo ${unique()}\n`,
        {
          options: { shmSize: 64 * 1024 * 1024 },
        },
      ),
      context,
    );
    // The build phase says which builder ran, and why.
    expect(context.events).toContainEqual(
      expect.objectContaining({
        type: 'phase',
        phase: 'build',
        detail: expect.stringMatching(
          /, legacy builder: shm_size is set, which BuildKit in Docker before 23 ignores\)$/,
        ),
      }),
    );
    expect(() =>
      new DockerEngine({ env: { INDEX_TOKEN: 'x' } }).validateOptions({
        shmSize: 1024,
        secrets: { t: { env: 'INDEX_TOKEN' } },
      }),
    ).toThrow(/cannot build this with its secrets: they need BuildKit, and shm_size is set/);
  });

  it('refuses options it cannot honour before building', async () => {
    const error = await failure(
      engine.build(
        await buildRequest(`zenbuild-test/x:${unique()}`, `FROM ${baseImage}\n`, {
          options: { squash: true },
        }),
        runContext(),
      ),
    );
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toContain('`squash`');
  });

  it('reports a daemon that does not answer, naming DOCKER_HOST', async () => {
    const availability = await new DockerEngine({
      env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
    }).check();
    expect(availability.available).toBe(false);
    expect(availability.reason).toContain('unix:///nonexistent/docker.sock (DOCKER_HOST) does not answer');
  });

  it('checks the daemon and inspects images without loading dockerode (a reuse hit builds nothing)', () => {
    // In a process of its own, from the built package as a user runs it: what did those calls load?
    const script = `
      import { createRequire } from 'node:module';
      import { DockerEngine } from '@zenbuild/docker';
      const engine = new DockerEngine();
      const availability = await engine.check();
      const exists = await engine.imageExists(${JSON.stringify(baseImage)});
      const missing = await engine.imageExists('zenbuild-test/never-built:${unique()}');
      const dockerode = () => Object.keys(createRequire(import.meta.url).cache).filter((m) => m.includes('/dockerode/'));
      const loaded = dockerode();
      await import('dockerode'); // the control: the same probe sees dockerode once it is loaded
      console.log(JSON.stringify({ available: availability.available, exists, missing, loaded, control: dockerode().length > 0 }));`;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: `${repoRoot}/packages/docker`,
      encoding: 'utf8',
    });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({
      available: true,
      exists: true,
      missing: false,
      loaded: [],
      control: true,
    });
  });

  it('is what core selects when ZENML_CONTAINER_ENGINE=docker, loaded as a package', async () => {
    const selection = await selectEngine({
      env: { ZENML_CONTAINER_ENGINE: 'docker' },
      importer: (s) => import(s),
    });
    expect(selection.name).toBe('docker');
    expect(selection.reason).toMatch(/^ZENML_CONTAINER_ENGINE=docker pins it; the Docker daemon .* answered/);
  });
});

describe('the engines check their config from the stack before creating an engine', () => {
  it('refuses a config field the engine does not know, or of the wrong type, naming it', async () => {
    for (const engine of ['docker', 'podman']) {
      const error = await selectEngine({
        env: { ...process.env, ZENML_CONTAINER_ENGINE: engine },
        engineOptions: { subprocess: 'sometimes', socket: '/x' },
      }).then(
        () => undefined,
        (e: unknown) => e as ZenbuildError,
      );
      expect(error?.code, engine).toBe('INVALID_INPUT');
      expect(error?.message).toContain(`The ${engine} engine's config is not valid`);
      expect(error?.message).toMatch(/subprocess: .*boolean/);
      expect(error?.message).toMatch(/Unrecognized key.*socket/);
    }
  });
});
