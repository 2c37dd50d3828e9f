import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  type BuildEvent,
  type ContainerRegistry,
  hashContext,
  walkContext,
  ZenbuildError,
} from '@zenbuild/core';
import {
  type BuildContextSource,
  type BuildOptions,
  type BuildRequest,
  buildContextSource,
  type ContainerEngine,
  imagesPulledBy,
  LocalImageBuilder,
  RegistryClient,
  type RunContext,
} from '@zenbuild/core/backend';
import { describe, expect, inject, it } from 'vitest';
import { cancelledAfter, stalledStream } from '../helpers/cancel.js';
import { credentialHelperConfig } from '../helpers/credential-helper.js';
import { freePort } from '../infra/registries.js';
import { startTokenProxy } from '../infra/token-proxy.js';

/** What the suite needs from an engine's test file. */
export interface EngineHarness {
  engine: ContainerEngine;
  /** An offline base image this engine has. */
  baseImage: string;
  /** Runs a command in a container of `image` with this engine and returns its output. */
  run(image: string, command: string[]): string;
  /** The same engine with another environment (for credentials from a docker config). */
  withEnv(env: NodeJS.ProcessEnv): ContainerEngine;
}

export function runContext(): RunContext & { events: BuildEvent[] } {
  const events: BuildEvent[] = [];
  return { signal: new AbortController().signal, emit: (e) => events.push(e), events };
}

/** A build request as the local image builder makes it: core's context with a generated Dockerfile. */
export async function buildRequest(
  imageName: string,
  dockerfile: string,
  extra: Partial<BuildRequest> = {},
): Promise<BuildRequest> {
  const root = mkdtempSync(path.join(tmpdir(), 'zenbuild-engine-'));
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

/** Builds `image` on `baseImage` with `/parent` holding `text`: a parent for the pull cases. */
async function buildParent(engine: ContainerEngine, baseImage: string, image: string, text: string) {
  await engine.build(
    await buildRequest(image, `FROM ${baseImage}\nRUN echo ${text} > /parent\n`),
    runContext(),
  );
}

/** A docker config directory whose `config.json` has these `auths`. */
function dockerConfig(auths: Record<string, Record<string, string>>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-dc-'));
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ auths }));
  return dir;
}

/** A request for `child` on `parent` whose RUN step reads the parent's `/parent`. */
function childRequest(child: string, parent: string, extra: Partial<BuildRequest> = {}) {
  return buildRequest(child, `FROM ${parent}\nRUN cat /parent\n`, { parentImage: parent, ...extra });
}

/**
 * A context whose stream sends the start of a real tar archive, then nothing: the engine waits for the
 * rest, as it does for a large context on a slow disk. For cancelling mid-send (or mid-copy, for an
 * engine that takes the context as a directory).
 */
export function stalledContext(): BuildContextSource {
  const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-slow-'));
  writeFileSync(path.join(dir, 'big.bin'), Buffer.alloc(1 << 20));
  const head = spawnSync('tar', ['-c', '-C', dir, 'big.bin']).stdout.subarray(0, 4096);
  return {
    hash: 'd'.repeat(64),
    size: 1 << 20,
    tar: () => stalledStream(head),
    archive: () => stalledStream(head),
    // The first file's start on disk, then nothing until the signal, as a copy of a large file stops.
    writeTo: (into, { signal } = {}) => {
      writeFileSync(path.join(into, 'big.bin'), Buffer.alloc(4096));
      return new Promise((_, reject) =>
        signal?.addEventListener('abort', () =>
          reject(new ZenbuildError('CANCELLED', 'Writing the build context was cancelled.')),
        ),
      );
    },
  };
}

export async function failure(promise: Promise<unknown>): Promise<ZenbuildError> {
  try {
    await promise;
  } catch (error) {
    return error as ZenbuildError;
  }
  throw new Error('expected a failure');
}

const unique = () => Math.random().toString(36).slice(2, 8);

/**
 * The behaviour every ContainerEngine must have, proven against the real engine and real registries
 * (keyv's idea: one suite, every adapter runs it).
 */
export function containerEngineConformance(name: string, harness: () => EngineHarness) {
  const { open, auth, user, password } = inject('registries');
  const registryClient = new RegistryClient({ env: { DOCKER_CONFIG: '/nonexistent-zenbuild' } });

  /** The registry with htpasswd auth, with the stack's credentials unless told otherwise. */
  const authRegistry = ({ credentials = true } = {}): ContainerRegistry => ({
    flavor: 'default',
    name: 'auth',
    uri: auth,
    ...(credentials ? { credentials: { username: user, password } } : {}),
  });

  describe(`ContainerEngine conformance: ${name}`, () => {
    it('is available and says why', async () => {
      const availability = await harness().engine.check();
      expect(availability.available).toBe(true);
      expect(availability.reason.length).toBeGreaterThan(10);
    });

    it('builds from core’s context stream with build args and labels, streams the output, and the image runs', async () => {
      const { engine, baseImage, run } = harness();
      const image = `zenbuild-test/${name}-build:${unique()}`;
      const context = runContext();
      const result = await engine.build(
        await buildRequest(
          image,
          `FROM ${baseImage}\nARG GREETING\nWORKDIR /app\nCOPY app.py .\nRUN echo "$GREETING" > /app/greeting && echo step-output\n`,
          {
            options: { buildArgs: { GREETING: 'hi there' }, labels: { team: 'ml' } },
          },
        ),
        context,
      );
      expect(result.imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(run(image, ['cat', '/app/greeting', '/app/app.py'])).toBe(
        'hi there\nprint("hello from the context")\n',
      );
      expect(context.events.some((e) => e.type === 'log' && e.line.includes('step-output'))).toBe(true);
    });

    it('honours target, shm_size and extra_hosts inside the build, and network none', async () => {
      const { engine, baseImage, run } = harness();
      const image = `zenbuild-test/${name}-options:${unique()}`;
      await engine.build(
        await buildRequest(
          image,
          [
            `FROM ${baseImage} AS probe`,
            `RUN echo ${unique()} && df -k /dev/shm | tail -n 1 > /shm && grep db.internal /etc/hosts > /hosts`,
            `FROM ${baseImage} AS final`,
            'RUN echo final > /stage',
          ].join('\n'),
          {
            options: {
              target: 'probe',
              shmSize: 32 * 1024 * 1024,
              extraHosts: { 'db.internal': '10.1.2.3' },
            },
          },
        ),
        runContext(),
      );
      const [shm, hosts, stage] = run(image, ['sh', '-c', 'cat /shm /hosts; test -e /stage || echo none'])
        .trim()
        .split('\n');
      expect(shm?.split(/\s+/).slice(1, 2)).toEqual(['32768']); // 1K blocks of /dev/shm
      expect(hosts?.split(/\s+/)).toEqual(['10.1.2.3', 'db.internal']);
      expect(stage).toBe('none'); // the build stopped at the target stage

      // Podman makes no /etc/hosts without a network, so network none is its own build.
      const isolated = `zenbuild-test/${name}-no-network:${unique()}`;
      await engine.build(
        await buildRequest(
          isolated,
          `FROM ${baseImage}\nRUN echo ${unique()} && ls /sys/class/net > /nets\n`,
          {
            options: { network: 'none' },
          },
        ),
        runContext(),
      );
      expect(run(isolated, ['cat', '/nets'])).toBe('lo\n');
    });

    it('reuses its layer cache for an unchanged step, and runs the step again with no_cache', async () => {
      const { engine, baseImage, run } = harness();
      const dockerfile = `FROM ${baseImage}\nRUN echo ${unique()} && cat /proc/sys/kernel/random/uuid > /uuid\n`;
      const uuidOf = async (options: BuildOptions) => {
        const image = `zenbuild-test/${name}-cache:${unique()}`;
        await engine.build(await buildRequest(image, dockerfile, { options }), runContext());
        return run(image, ['cat', '/uuid']);
      };
      const first = await uuidOf({});
      expect(await uuidOf({})).toBe(first);
      expect(await uuidOf({ noCache: true })).not.toBe(first);
    });

    it('refuses a context whose file changed after planning, and builds nothing from it', async () => {
      const { engine, baseImage } = harness();
      const image = `zenbuild-test/${name}-changed:${unique()}`;
      const root = mkdtempSync(path.join(tmpdir(), 'zenbuild-engine-'));
      writeFileSync(path.join(root, 'a.py'), 'a = 1\n');
      writeFileSync(path.join(root, 'z.py'), 'z = 1\n');
      const dockerfile = `FROM ${baseImage}\nCOPY . /ctx/\n`;
      const walked = await walkContext({ root, files: [{ path: 'Dockerfile', content: dockerfile }] });
      const { hash } = await hashContext(walked.entries);
      // The archive refuses z.py once its header is out; the engine must stop and give that reason,
      // not the engine's "unexpected EOF" (and must never build a shorter context).
      writeFileSync(path.join(root, 'z.py'), 'z = 2  # edited after the plan\n');
      const error = await failure(
        engine.build(
          {
            imageName: image,
            context: buildContextSource(walked.entries, hash),
            dockerfile: 'Dockerfile',
            options: {},
          },
          runContext(),
        ),
      );
      expect(error.code).toBe('INVALID_INPUT');
      expect(error.message).toMatch(/z\.py changed after the build context was planned/);
      expect(await engine.imageExists(image)).toBe(false);
    });

    it('stops within seconds when cancelled while the context is still being sent', async () => {
      const { engine } = harness();
      const { error, ms } = await cancelledAfter(300, (signal) =>
        engine.build(
          {
            imageName: `zenbuild-test/${name}-cancelled:${unique()}`,
            context: stalledContext(),
            dockerfile: 'Dockerfile',
            options: {},
          },
          { ...runContext(), signal },
        ),
      );
      expect((error as ZenbuildError).code).toBe('CANCELLED');
      expect(ms).toBeLessThan(3_000);
    });

    it('pushes and returns the digest the registry reports', async () => {
      const { engine, baseImage } = harness();
      const image = `${open}/zenbuild-test/${name}-pushed:${unique()}`;
      await engine.build(
        await buildRequest(image, `FROM ${baseImage}\nRUN echo ${unique()} > /id\n`),
        runContext(),
      );
      const digest = await engine.push(image, undefined, runContext());
      expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(await registryClient.manifestDigest(image)).toBe(digest);
    });

    it('pulls its parent image from a loopback registry over plain http, as Docker assumes', async () => {
      const { engine, baseImage, run } = harness();
      const parent = `${open}/zenbuild-test/${name}-parent:${unique()}`;
      await buildParent(engine, baseImage, parent, 'parent');
      await engine.push(parent, { flavor: 'default', name: 'open', uri: open }, runContext());
      const child = `zenbuild-test/${name}-child:${unique()}`;
      // pull: true makes the engine ask the registry even though it has the parent.
      await engine.build(await childRequest(child, parent, { options: { pull: true } }), runContext());
      expect(run(child, ['cat', '/parent'])).toBe('parent\n');
    });

    it('builds on a local parent also pushed under another name without pulling it (if-not-local)', async () => {
      const { engine, baseImage, run } = harness();
      const parent = `zenbuild-test/${name}-local-parent:${unique()}`;
      await buildParent(engine, baseImage, parent, 'local');
      const elsewhere = `${open}/zenbuild-test/${name}-copy:${unique()}`;
      await engine.tag(parent, elsewhere);
      await engine.push(elsewhere, { flavor: 'default', name: 'open', uri: open }, runContext());
      // The trap: the parent now has a repo digest, for the other name. Its own name has no registry.
      expect((await engine.localImage(parent))?.repoDigests.length).toBeGreaterThan(0);
      const child = `zenbuild-test/${name}-on-local:${unique()}`;
      await new LocalImageBuilder(engine).build(
        await childRequest(child, parent, { pullPolicy: 'if-not-local' }),
        runContext(),
      );
      expect(run(child, ['cat', '/parent'])).toBe('local\n');
    });

    it('builds on a parent built here under a registry name and never pushed, without pulling it', async () => {
      const { engine, baseImage, run } = harness();
      // A registry that does not answer: any pull would fail.
      const parent = `127.0.0.1:${await freePort()}/zenbuild-test/${name}-unpushed:${unique()}`;
      await buildParent(engine, baseImage, parent, 'unpushed');
      const child = `zenbuild-test/${name}-on-unpushed:${unique()}`;
      await new LocalImageBuilder(engine).build(
        await childRequest(child, parent, { pullPolicy: 'if-not-local' }),
        runContext(),
      );
      expect(run(child, ['cat', '/parent'])).toBe('unpushed\n');
    });

    it('pulls a private parent image with the stack registry credentials', async () => {
      const { engine, baseImage, run } = harness();
      const registry = authRegistry();
      const parent = `${auth}/zenbuild-test/${name}-private-parent:${unique()}`;
      await buildParent(engine, baseImage, parent, 'private');
      await engine.push(parent, registry, runContext());
      const child = `zenbuild-test/${name}-private-child:${unique()}`;
      const request = (credentials: ContainerRegistry) =>
        childRequest(child, parent, { options: { pull: true }, registry: credentials });
      await engine.build(await request(registry), runContext());
      expect(run(child, ['cat', '/parent'])).toBe('private\n');
      // Without the credentials the registry refuses the pull: they really were what got it.
      const { credentials: _, ...anonymous } = registry;
      await expect(engine.build(await request(anonymous), runContext())).rejects.toThrow();
    });

    it('pulls a private parent image with credentials from the docker config ($DOCKER_CONFIG auths)', async () => {
      const { engine, baseImage, run, withEnv } = harness();
      const registry = authRegistry();
      const parent = `${auth}/zenbuild-test/${name}-config-parent:${unique()}`;
      await buildParent(engine, baseImage, parent, 'from-the-config');
      await engine.push(parent, registry, runContext());
      const config = dockerConfig({
        [auth]: { auth: Buffer.from(`${user}:${password}`).toString('base64') },
      });
      const child = `zenbuild-test/${name}-config-child:${unique()}`;
      // No stack credentials: the pull (forced) can only get them from the docker config.
      await withEnv({ DOCKER_CONFIG: config, PATH: process.env.PATH }).build(
        await childRequest(child, parent, { options: { pull: true } }),
        runContext(),
      );
      expect(run(child, ['cat', '/parent'])).toBe('from-the-config\n');
    });

    it("pulls a custom Dockerfile's private FROM with the docker config's credentials while the stack registry brings its own", async () => {
      const { engine, baseImage, run, withEnv } = harness();
      const parent = `${auth}/zenbuild-test/${name}-custom-from:${unique()}`;
      await buildParent(engine, baseImage, parent, 'custom-from');
      await engine.push(parent, authRegistry(), runContext());
      // The stack's registry is another one, with credentials of its own: zenbuild must hand the
      // engine both, as `docker build` with the user's config would have them.
      const stack: ContainerRegistry = {
        flavor: 'default',
        name: 'open',
        uri: open,
        credentials: { username: 'anyone', password: 'the-open-registry-takes-any' },
      };
      const dockerfile = `ARG BASE=${parent}\nFROM \${BASE} AS base\nFROM base\nRUN cat /parent\n`;
      const child = `${open}/zenbuild-test/${name}-custom-child:${unique()}`;
      // A custom Dockerfile: no parent on the request, only what the plan reads off its FROM lines.
      const request = await buildRequest(child, dockerfile, {
        options: { pull: true },
        registry: stack,
        pulls: imagesPulledBy(dockerfile),
      });
      const config = dockerConfig({
        [auth]: { auth: Buffer.from(`${user}:${password}`).toString('base64') },
      });
      await withEnv({ DOCKER_CONFIG: config, PATH: process.env.PATH }).build(request, runContext());
      expect(run(child, ['cat', '/parent'])).toBe('custom-from\n');
      // Without them in the docker config the registry refuses the (forced) pull.
      const empty = dockerConfig({});
      await expect(
        withEnv({ DOCKER_CONFIG: empty, PATH: process.env.PATH }).build(request, runContext()),
      ).rejects.toThrow();
    });

    it('pushes with an identity token from the docker config, as docker login stores it for Azure', async () => {
      const { baseImage, withEnv } = harness();
      const refreshToken = `refresh-${unique()}`;
      const proxy = await startTokenProxy(open, undefined, refreshToken);
      try {
        const config = dockerConfig({
          [proxy.host]: {
            auth: Buffer.from('00000000-0000-0000-0000-000000000000:').toString('base64'),
            identitytoken: refreshToken,
          },
        });
        const engine = withEnv({ DOCKER_CONFIG: config, PATH: process.env.PATH });
        const image = `${proxy.host}/zenbuild-test/${name}-identity:${unique()}`;
        await engine.build(
          await buildRequest(image, `FROM ${baseImage}\nRUN echo ${unique()} > /id\n`),
          runContext(),
        );
        const digest = await engine.push(image, undefined, runContext());
        const client = new RegistryClient({ env: { DOCKER_CONFIG: config } });
        expect(await client.manifestDigest(image)).toBe(digest);
        // The push got its token for the refresh token, the only way this registry hands them out.
        expect(
          proxy.tokenRequests.some((r) => /^POST refresh_token \S+ repository:\S+:\S*push/.test(r)),
        ).toBe(true);
      } finally {
        await proxy.close();
      }
    });

    it('pushes with the stack registry credentials, and a wrong password is an auth error that hides it', async () => {
      const { engine, baseImage } = harness();
      const registry = authRegistry();
      const image = `${auth}/zenbuild-test/${name}-private:${unique()}`;
      await engine.build(
        await buildRequest(image, `FROM ${baseImage}\nRUN echo ${unique()} > /id\n`),
        runContext(),
      );
      await engine.login(registry);
      const digest = await engine.push(image, registry, runContext());
      const authed = new RegistryClient({
        env: { DOCKER_CONFIG: '/nonexistent-zenbuild' },
        credentials: { [auth]: { username: user, password } },
      });
      expect(await authed.manifestDigest(image)).toBe(digest);
      const wrong = await failure(
        engine.push(
          image,
          { ...registry, credentials: { username: user, password: 'wrong-pass-77' } },
          runContext(),
        ),
      );
      expect(wrong.code).toBe('NOT_AVAILABLE');
      expect(wrong.message).toMatch(/refused/);
      expect(wrong.message).toContain('check the registry credentials');
      expect(wrong.message).not.toContain('wrong-pass-77');
      expect(
        (
          await failure(
            engine.login({ ...registry, credentials: { username: user, password: 'wrong-pass-77' } }),
          )
        ).code,
      ).toBe('NOT_AVAILABLE');
    });

    it('pushes with credentials from the docker config ($DOCKER_CONFIG) when the stack gives none', async () => {
      const { engine, baseImage, withEnv } = harness();
      const image = `${auth}/zenbuild-test/${name}-config:${unique()}`;
      await engine.build(
        await buildRequest(image, `FROM ${baseImage}\nRUN echo ${unique()} > /id\n`),
        runContext(),
      );
      const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-dc-'));
      writeFileSync(
        path.join(dir, 'config.json'),
        JSON.stringify({
          auths: { [auth]: { auth: Buffer.from(`${user}:${password}`).toString('base64') } },
        }),
      );
      const registry = authRegistry({ credentials: false });
      const digest = await withEnv({ PATH: process.env.PATH, DOCKER_CONFIG: dir }).push(
        image,
        registry,
        runContext(),
      );
      const authed = new RegistryClient({ env: { DOCKER_CONFIG: dir } });
      expect(await authed.manifestDigest(image)).toBe(digest);
    });

    it('pushes with credentials from the credential helper the docker config names (credsStore)', async () => {
      const { engine, baseImage, withEnv } = harness();
      const image = `${auth}/zenbuild-test/${name}-helper:${unique()}`;
      await engine.build(
        await buildRequest(image, `FROM ${baseImage}\nRUN echo ${unique()} > /id\n`),
        runContext(),
      );
      const helper = credentialHelperConfig({ registry: auth, username: user, password, via: 'credsStore' });
      const registry = authRegistry({ credentials: false });
      const digest = await withEnv(helper.env).push(image, registry, runContext());
      // Asked before the check below, which asks the helper too.
      expect(helper.asked()).toMatch(new RegExp(`^get (https?://)?${auth.replaceAll('.', '\\.')}`, 'm'));
      const authed = new RegistryClient({ env: helper.env });
      expect(await authed.manifestDigest(image)).toBe(digest);
    });

    it('fails a push to a registry that does not answer with a short message naming it', async () => {
      const { engine, baseImage } = harness();
      const down = `127.0.0.1:${await freePort()}`;
      const image = `${down}/zenbuild-test/${name}-down:${unique()}`;
      // An image of its own (the cache would otherwise hand out the base's or another test's), so the
      // unreachable name is tagged on nothing another test looks at.
      await engine.build(
        await buildRequest(image, `FROM ${baseImage}\nRUN echo ${unique()}\n`),
        runContext(),
      );
      const registry: ContainerRegistry = { flavor: 'default', name: 'down', uri: down };
      const error = await failure(engine.push(image, registry, runContext()));
      expect(error.message).toMatch(
        new RegExp(`^Pushing ${image.replaceAll('.', '\\.')} failed: .*${down}.*connection refused`),
      );
      expect(error.message).not.toMatch(/Copying blob|\n/); // the engine's error, not its progress
    });

    it('fails a failing RUN with BUILD_FAILED and the step’s output', async () => {
      const { engine, baseImage } = harness();
      const error = await failure(
        engine.build(
          await buildRequest(
            `zenbuild-test/${name}-fails:${unique()}`,
            `FROM ${baseImage}\nRUN echo about to fail && exit 3\n`,
          ),
          runContext(),
        ),
      );
      expect(error.code).toBe('BUILD_FAILED');
      expect(String(error.details.stderrTail)).toContain('about to fail');
    });

    it('tells built images from missing ones, and local-only images by their empty registry digests', async () => {
      const { engine, baseImage } = harness();
      const image = `zenbuild-test/${name}-exists:${unique()}`;
      expect(await engine.imageExists(image)).toBe(false);
      expect(await engine.localImage(image)).toBeUndefined();
      await engine.build(
        await buildRequest(image, `FROM ${baseImage}\nRUN echo ${unique()}\n`),
        runContext(),
      );
      expect(await engine.imageExists(image)).toBe(true);
      expect(await engine.localImage(image)).toMatchObject({
        id: expect.stringMatching(/^sha256:/),
        repoDigests: [],
      });
      await engine.tag(image, `${image}-copy`);
      expect(await engine.imageExists(`${image}-copy`)).toBe(true);
    });
  });
}
