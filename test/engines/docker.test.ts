import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  type BuildEvent,
  type BuildRequest,
  buildContextSource,
  type ContainerRegistry,
  hashContext,
  RegistryClient,
  type RunContext,
  selectEngine,
  walkContext,
  type ZenbuildError,
} from '@zenbuild/core';
import { DockerEngine } from '@zenbuild/docker';
import { describe, expect, inject, it } from 'vitest';
import { inspectLabel, removeImage, runInImage } from '../infra/dockerd.js';

const { open, auth, user, password } = inject('registries');
const baseImage = inject('baseImage');
const noDockerConfig = { DOCKER_CONFIG: '/nonexistent-zenbuild', PATH: process.env.PATH };
const engine = new DockerEngine({ env: noDockerConfig });

function run(): RunContext & { events: BuildEvent[] } {
  const events: BuildEvent[] = [];
  return { signal: new AbortController().signal, emit: (e) => events.push(e), events };
}

/** A build request as the local image builder makes it: core's context, a generated Dockerfile. */
async function request(
  imageName: string,
  dockerfile: string,
  extra: Partial<BuildRequest> = {},
): Promise<BuildRequest> {
  const root = mkdtempSync(path.join(tmpdir(), 'zenbuild-docker-'));
  writeFileSync(path.join(root, 'app.py'), 'print("hello from the context")\n');
  const walked = await walkContext({ root, files: [{ path: 'Dockerfile', content: dockerfile }] });
  const { hash } = await hashContext(walked.entries);
  return {
    imageName,
    context: buildContextSource(walked.entries, hash),
    dockerfile: 'Dockerfile',
    options: {},
    ...extra,
  };
}

async function failure(promise: Promise<unknown>): Promise<ZenbuildError> {
  try {
    await promise;
  } catch (error) {
    return error as ZenbuildError;
  }
  throw new Error('expected a failure');
}

const unique = () => Math.random().toString(36).slice(2, 8);

describe('DockerEngine against a real dockerd', () => {
  it('says which daemon answered', async () => {
    const availability = await engine.check();
    expect(availability.available).toBe(true);
    expect(availability.reason).toMatch(
      /Docker daemon at unix:\/\/\/var\/run\/docker\.sock .* answered \(Docker 20\.10\.[^,]+, API 1\.41\)/,
    );
  });

  it('builds from core’s context stream, with build args and labels, and the image runs', async () => {
    const name = `zenbuild-test/docker-build:${unique()}`;
    const r = run();
    const result = await engine.build(
      await request(
        name,
        `FROM ${baseImage}\nARG GREETING\nWORKDIR /app\nCOPY app.py .\nRUN echo "$GREETING" > /app/greeting\n`,
        {
          options: { buildArgs: { GREETING: 'hi there' }, labels: { team: 'ml' } },
        },
      ),
      r,
    );
    expect(result.imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await engine.imageExists(name)).toBe(true);
    expect(runInImage(name, ['cat', '/app/greeting', '/app/app.py'])).toBe(
      'hi there\nprint("hello from the context")\n',
    );
    // Every line of the build reaches the caller as an event (the daemon adds a LABEL step for labels).
    expect(r.events.some((e) => e.type === 'log' && /^Step 1\/\d+ : FROM /.test(e.line))).toBe(true);
    expect(inspectLabel(name, 'team')).toBe('ml');
  });

  it('pushes and returns the digest the registry reports', async () => {
    const name = `${open}/zenbuild-test/pushed:${unique()}`;
    await engine.build(await request(name, `FROM ${baseImage}\nRUN echo ${unique()} > /id\n`), run());
    const digest = await engine.push(name, undefined, run());
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await new RegistryClient({ env: noDockerConfig }).manifestDigest(name)).toBe(digest);
  });

  it('pushes to a registry with auth using the stack registry credentials, and names a wrong password', async () => {
    const registry: ContainerRegistry = {
      flavor: 'default',
      name: 'auth',
      uri: auth,
      credentials: { username: user, password },
    };
    const name = `${auth}/zenbuild-test/private:${unique()}`;
    await engine.build(await request(name, `FROM ${baseImage}\nRUN echo ${unique()} > /id\n`), run());
    const digest = await engine.push(name, registry, run());
    expect(
      await new RegistryClient({
        env: noDockerConfig,
        credentials: { [auth]: { username: user, password } },
      }).manifestDigest(name),
    ).toBe(digest);
    const wrong = await failure(
      engine.push(name, { ...registry, credentials: { username: user, password: 'wrong-pass-77' } }, run()),
    );
    expect(wrong.code).toBe('NOT_AVAILABLE');
    expect(wrong.message).toMatch(/refused by the registry .*check the registry credentials/);
    expect(wrong.message).not.toContain('wrong-pass-77');
  });

  it('builds on a private parent image with the stack registry credentials (registryconfig)', async () => {
    const registry: ContainerRegistry = {
      flavor: 'default',
      name: 'auth',
      uri: auth,
      credentials: { username: user, password },
    };
    const parent = `${auth}/zenbuild-test/parent:${unique()}`;
    await engine.build(await request(parent, `FROM ${baseImage}\nRUN echo parent > /parent\n`), run());
    await engine.push(parent, registry, run());
    // Remove it locally so the build has to pull it from the registry with credentials.
    await engine.tag(parent, `${parent}-kept`);
    removeImage(parent);
    const child = `zenbuild-test/child:${unique()}`;
    await engine.build(
      await request(child, `FROM ${parent}\nRUN cat /parent\n`, { options: { pull: true }, registry }),
      run(),
    );
    expect(runInImage(child, ['cat', '/parent'])).toBe('parent\n');
  });

  it('fails a failing RUN with the step’s output', async () => {
    const error = await failure(
      engine.build(
        await request(
          `zenbuild-test/fails:${unique()}`,
          `FROM ${baseImage}\nRUN echo about to fail && exit 3\n`,
        ),
        run(),
      ),
    );
    expect(error.code).toBe('BUILD_FAILED');
    expect(error.exitCode).toBe(1);
    expect(error.message).toMatch(/returned a non-zero code: 3/);
    expect(String(error.details.stderrTail)).toContain('about to fail');
  });

  it('refuses options it cannot honour before building', async () => {
    const error = await failure(
      engine.build(
        await request(`zenbuild-test/x:${unique()}`, `FROM ${baseImage}\n`, { options: { squash: true } }),
        run(),
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

  it('is what core selects when ZENML_CONTAINER_ENGINE=docker, loaded as a package', async () => {
    const selection = await selectEngine({
      env: { ZENML_CONTAINER_ENGINE: 'docker' },
      importer: (s) => import(s),
    });
    expect(selection.name).toBe('docker');
    expect(selection.reason).toMatch(/^ZENML_CONTAINER_ENGINE=docker pins it; the Docker daemon .* answered/);
  });
});
