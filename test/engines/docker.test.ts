import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  buildRequest,
  containerEngineConformance,
  failure,
  imageBuilderConformance,
  runContext,
} from '@zenbuild/conformance';
import { selectEngine, type ZenbuildError } from '@zenbuild/core';
import { LocalImageBuilder } from '@zenbuild/core/backend';
import { DockerCliEngine, DockerEngine, engine as dockerFlavor, toDockerCliFlags } from '@zenbuild/docker';
import { describe, expect, inject, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';
import { inspectLabel, runInImage } from '../infra/dockerd.js';

const baseImage = inject('baseImage');
const engine = new DockerEngine({ env: { DOCKER_CONFIG: '/nonexistent-zenbuild', PATH: process.env.PATH } });
const unique = () => Math.random().toString(36).slice(2, 8);

containerEngineConformance(
  'docker',
  () => ({
    engine,
    baseImage,
    run: runInImage,
    withEnv: (env) => new DockerEngine({ env }),
  }),
  { registries: inject('registries') },
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
  }),
  { registries: inject('registries') },
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

  it('keeps the CLI’s own builder: BuildKit with Docker 20.10’s client and DOCKER_BUILDKIT=1, so RUN --mount works', async () => {
    // The Debian CLI (20.10) has BuildKit built in; the newer CLI first on PATH has no buildx here.
    const buildkit = new DockerCliEngine({
      env: { PATH: process.env.PATH, DOCKER_BUILDKIT: '1' },
      binary: '/usr/bin/docker',
    });
    expect((await buildkit.check()).reason).toMatch(/subprocess mode; BuildKit: DOCKER_BUILDKIT=1\)$/);
    const legacy = new DockerCliEngine({ env: { PATH: process.env.PATH } });
    expect((await legacy.check()).reason).toMatch(
      /the legacy builder: no buildx, and DOCKER_BUILDKIT is not set\)$/,
    );

    const dockerfile = `FROM ${baseImage}\nRUN --mount=type=cache,target=/cache echo cached > /cache/mark && cp /cache/mark /built\n`;
    const image = `zenbuild-test/docker-cli-buildkit:${Math.random().toString(36).slice(2, 8)}`;
    const run = runContext();
    const { imageId } = await buildkit.build(await buildRequest(image, dockerfile), run);
    expect(imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(runInImage(image, ['cat', '/built'])).toBe('cached\n');
    // The cache mount stays out of the image.
    expect(runInImage(image, ['sh', '-c', 'ls /cache 2>/dev/null | wc -l'])).toBe('0\n');
    // BuildKit's own progress came through as log lines.
    expect(run.events.some((e) => e.type === 'log' && /^#\d+ /.test(e.line))).toBe(true);

    // The legacy builder refuses the same Dockerfile, with Docker's reason.
    const error = await failure(
      legacy.build(await buildRequest(`${image}-legacy`, dockerfile), runContext()),
    );
    expect(error.code).toBe('BUILD_FAILED');
    expect(error.message).toContain('the --mount option requires BuildKit');
  });

  it('mounts build secrets with BuildKit: the value reaches the RUN step and nothing of the image', async () => {
    const token = `tok-${Math.random().toString(36).slice(2)}-secret`;
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'zenbuild-secret-')), 'netrc');
    writeFileSync(file, 'machine index login ci password from-a-file\n');
    const env = { PATH: process.env.PATH, DOCKER_BUILDKIT: '1', INDEX_TOKEN: token };
    const buildkit = new DockerCliEngine({ env, binary: '/usr/bin/docker' });
    await buildkit.check();
    const options = { secrets: { index_token: { env: 'INDEX_TOKEN' }, netrc: { file } } };
    buildkit.validateOptions(options);
    const dockerfile = [
      `FROM ${baseImage}`,
      // BuildKit does not count a secret's value in a step's cache key: a step of its own per run.
      `RUN --mount=type=secret,id=index_token --mount=type=secret,id=netrc echo ${token.slice(4, 10)} > /run-id && sha256sum /run/secrets/index_token | cut -c1-64 > /token-hash && grep -c password /run/secrets/netrc > /netrc-lines`,
      '',
    ].join('\n');
    const image = `zenbuild-test/docker-cli-secret:${Math.random().toString(36).slice(2, 8)}`;
    const run = runContext();
    await buildkit.build(await buildRequest(image, dockerfile, { options }), run);
    expect(runInImage(image, ['cat', '/token-hash'])).toBe(
      `${createHash('sha256').update(token).digest('hex')}\n`,
    );
    expect(runInImage(image, ['cat', '/netrc-lines'])).toBe('1\n');
    // Not in the image's history, its layers, or the build's output.
    const history = spawnSync('docker', ['history', '--no-trunc', image], { encoding: 'utf8' }).stdout;
    expect(history).toContain('sha256sum /run/secrets/index_token');
    expect(history).not.toContain(token);
    const saved = spawnSync('docker', ['save', image], { maxBuffer: 256 << 20 }).stdout as Buffer;
    expect(saved.length).toBeGreaterThan(1000);
    expect(saved.includes(Buffer.from(token))).toBe(false);
    expect(saved.includes(Buffer.from('from-a-file'))).toBe(false);
    expect(JSON.stringify(run.events)).not.toContain(token);
  });

  it('refuses build secrets before building where they cannot be mounted, and a secret that cannot be read', async () => {
    const options = { secrets: { index_token: { env: 'INDEX_TOKEN' } } };
    // The Engine API mode builds with the legacy builder.
    expect(() => new DockerEngine({ env: { INDEX_TOKEN: 'x' } }).validateOptions(options)).toThrow(
      /Engine API mode builds with the legacy builder, which cannot mount the build option `secrets`/,
    );
    // A CLI without BuildKit, once its check has said so.
    const legacy = new DockerCliEngine({ env: { PATH: process.env.PATH, INDEX_TOKEN: 'x' } });
    await legacy.check();
    expect(() => legacy.validateOptions(options)).toThrow(
      /builds with the legacy builder: no buildx, and DOCKER_BUILDKIT is not set, which cannot mount the build option `secrets`/,
    );
    // A variable that is not set.
    const unset = new DockerCliEngine({
      env: { PATH: process.env.PATH, DOCKER_BUILDKIT: '1' },
      binary: '/usr/bin/docker',
    });
    expect(() => unset.validateOptions(options)).toThrow(
      /The build secret `index_token` cannot be read: the variable INDEX_TOKEN is not set/,
    );
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
  it('says which daemon answered, and its version', async () => {
    expect((await engine.check()).reason).toMatch(
      /Docker daemon at unix:\/\/\/var\/run\/docker\.sock \(the default socket\) answered \(Docker 20\.10\.[^,]+, API 1\.41\)/,
    );
    // And which builder runs: the API engine still uses the legacy one.
    expect((await engine.check()).reason).toMatch(/it builds with the legacy builder over the Engine API$/);
  });

  it('passes labels to the image and reports the classic builder’s steps as events', async () => {
    const image = `zenbuild-test/docker-labels:${unique()}`;
    const context = runContext();
    await engine.build(
      await buildRequest(image, `FROM ${baseImage}\nRUN true\n`, { options: { labels: { team: 'ml' } } }),
      context,
    );
    expect(inspectLabel(image, 'team')).toBe('ml');
    expect(context.events.some((e) => e.type === 'log' && /^Step 1\/\d+ : FROM /.test(e.line))).toBe(true);
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
