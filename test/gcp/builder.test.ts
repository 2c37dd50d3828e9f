import { createHash } from 'node:crypto';
import { buildRequest, failure, imageBuilderConformance } from '@zenbuild/conformance';
import { type BuildEvent, type Stack, stackFromData } from '@zenbuild/core';
import { RegistryClient } from '@zenbuild/core/backend';
import { GcpImageBuilder, gcpImageBuilderConfigSchema } from '@zenbuild/gcp';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FAKE_GCP_ENV, type FakeGcp, startFakeGcp } from '../fakes/gcp/index.js';
import { localBuildEnv } from '../fakes/local-build-env.js';
import { runInImage, savedImage } from '../infra/dockerd.js';

const { open } = inject('registries');
const baseImage = inject('baseImage');
const unique = () => Math.random().toString(36).slice(2, 8);
const PROJECT = 'demo-project';
const BUCKET = 'zenbuild-artifacts';
// What Secret Manager holds for the build (its version resource name is what the Build names).
const TOKEN_VERSION = `projects/${PROJECT}/secrets/index-token/versions/3`;
const INDEX_TOKEN = `tok-${unique()}${unique()}-gcp`;

let gcp: FakeGcp;

beforeAll(async () => {
  gcp = await startFakeGcp({
    projects: [PROJECT],
    disabledProjects: ['api-off-project'],
    buckets: [BUCKET],
    buildEnv: localBuildEnv(),
    secrets: { [TOKEN_VERSION]: INDEX_TOKEN },
  });
  Object.assign(process.env, FAKE_GCP_ENV);
});
afterAll(async () => gcp?.close());

function gcpStack(config: Record<string, unknown> = {}, path = `gs://${BUCKET}/zenml`) {
  return stackFromData(
    {
      name: 'gcp-e2e',
      components: {
        image_builder: {
          flavor: 'gcp',
          config: { project: PROJECT, api_endpoint: gcp.endpoint, storage_endpoint: gcp.endpoint, ...config },
        },
        container_registry: { flavor: 'gcp', uri: open },
        artifact_store: { flavor: 'gcs', path },
      },
    },
    { env: {} },
  ).stack;
}

function builderFor(stack: Stack, options: ConstructorParameters<typeof GcpImageBuilder>[2] = {}) {
  const config = gcpImageBuilderConfigSchema.parse(stack.imageBuilder.config);
  return new GcpImageBuilder(config, stack, { logPollMs: 200, ...options });
}

function recorder(signal = new AbortController().signal) {
  const events: BuildEvent[] = [];
  return { events, signal, emit: (event: BuildEvent) => events.push(event) };
}

const registryClient = new RegistryClient({ env: { DOCKER_CONFIG: '/nonexistent-zenbuild' } });

imageBuilderConformance('gcp', () => ({ builder: builderFor(gcpStack()), baseImage, run: runInImage }), {
  registries: inject('registries'),
  remote: { registryFlavor: 'gcp' },
});

describe('GcpImageBuilder against the Cloud Build + GCS fake', () => {
  it('uploads the tar.gz, builds with a docker step, lets Cloud Build push, and returns its digest', async () => {
    const stack = gcpStack();
    const id = unique();
    const imageName = `${open}/zenbuild-test/gcp-builder:${id}`;
    const run = recorder();
    const request = await buildRequest(
      imageName,
      `FROM ${baseImage}\nARG GREETING\nCOPY app.py /app/app.py\nRUN echo "$GREETING" > /greeting && echo built-in-cloud-build-${id}\n`,
      { registry: stack.containerRegistry, options: { buildArgs: { GREETING: 'a "quoted" $value' } } },
    );
    const built = await builderFor(stack).build(request, run);

    expect(built.image).toBe(`${open}/zenbuild-test/gcp-builder@${built.digest}`);
    expect(await registryClient.manifestDigest(imageName)).toBe(built.digest);
    expect(runInImage(built.image, ['cat', '/greeting', '/app/app.py'])).toBe(
      'a "quoted" $value\nprint("hello from the context")\n',
    );
    const object = gcp.gcs.object(BUCKET, `zenml/cloud-build-contexts/${request.context.hash}.tar.gz`);
    expect(object?.body.subarray(0, 2).toString('hex')).toBe('1f8b');
    const lines = run.events.flatMap((e) => (e.type === 'log' ? [e.line] : []));
    expect(lines).toContain(`Step #0: built-in-cloud-build-${id}`);
    expect(lines).toContain('DONE');
    expect(built.logsUrl).toContain('console.cloud.google.com/cloud-build/builds/');

    const create = gcp.cloudbuild.calls.find(
      (c) =>
        c.method === 'POST' &&
        c.path === `/v1/projects/${PROJECT}/builds` &&
        (c.body as { images?: string[] })?.images?.[0] === imageName,
    );
    expect(create?.body).toMatchObject({
      source: {
        storageSource: {
          bucket: BUCKET,
          object: `zenml/cloud-build-contexts/${request.context.hash}.tar.gz`,
        },
      },
      steps: [
        {
          name: 'gcr.io/cloud-builders/docker',
          args: [
            'build',
            '--network=cloudbuild',
            '--build-arg',
            // Cloud Build's escape for one $ (it reads $value as a substitution); the image has `$value`.
            'GREETING=a "quoted" $$value',
            '-f',
            'Dockerfile',
            '-t',
            imageName,
            '.',
          ],
        },
      ],
      images: [imageName],
      timeout: '3600s',
    });
  });

  it('uploads nothing the second time the same context is built', async () => {
    const stack = gcpStack();
    const request = await buildRequest(
      `${open}/zenbuild-test/gcp-twice:${unique()}`,
      `FROM ${baseImage}\nRUN echo twice\n`,
      {
        registry: stack.containerRegistry,
      },
    );
    await builderFor(stack).build(request, recorder());
    const before = gcp.gcs.calls.length;
    const second = recorder();
    await builderFor(stack).build(request, second);
    const contextCalls = gcp.gcs.calls.slice(before).filter((c) => c.object.includes('cloud-build-contexts'));
    expect(contextCalls.map((c) => c.operation)).toEqual(['GetMetadata']);
    expect(second.events).toContainEqual(expect.objectContaining({ type: 'phase', phase: 'upload skipped' }));
  });

  for (const failureAs of ['error', 'response'] as const) {
    it(`a failing step fails the build with the step, its output and the log URL (operation ends with ${failureAs})`, async () => {
      gcp.cloudbuild.options.failureAs = failureAs;
      try {
        const stack = gcpStack();
        const imageName = `${open}/zenbuild-test/gcp-fails:${unique()}`;
        const error = await failure(
          builderFor(stack).build(
            await buildRequest(
              imageName,
              `FROM ${baseImage}\nRUN echo about-to-fail-${failureAs} && exit 4\n`,
              {
                registry: stack.containerRegistry,
              },
            ),
            recorder(),
          ),
        );
        expect(error.code).toBe('BUILD_FAILED');
        expect(error.message).toMatch(
          /ended FAILURE: step 0 \(gcr\.io\/cloud-builders\/docker\) FAILURE: Build step failure/,
        );
        expect(error.message).toContain(`about-to-fail-${failureAs}`);
        expect(error.message).toContain('console.cloud.google.com');
        expect(await registryClient.exists(imageName)).toBe(false);
      } finally {
        gcp.cloudbuild.options.failureAs = 'error';
      }
    });
  }

  it('mounts a build secret Cloud Build reads from Secret Manager: the Build names the version, never the value', async () => {
    // BuildKit cannot run steps on the `cloudbuild` network (the default): refused, saying what to set.
    const refused = await failure(
      builderFor(gcpStack()).build(
        await buildRequest(`${open}/zenbuild-test/gcp-secrets:${unique()}`, `FROM ${baseImage}\n`, {
          registry: gcpStack().containerRegistry,
          options: { secrets: { t: { gcpSecretManager: TOKEN_VERSION } } },
        }),
        recorder(),
      ),
    );
    expect(refused.code).toBe('INVALID_INPUT');
    expect(refused.message).toMatch(
      /cannot run the build on the `cloudbuild` network; set .* `network` to `default`/,
    );
    const stack = gcpStack({ network: 'default' });
    const imageName = `${open}/zenbuild-test/gcp-secrets:${unique()}`;
    const run = recorder();
    const built = await builderFor(stack).build(
      await buildRequest(
        imageName,
        `FROM ${baseImage}\nRUN --mount=type=secret,id=index_token echo ${unique()} && sha256sum /run/secrets/index_token | cut -c1-64 > /token-hash\n`,
        {
          registry: stack.containerRegistry,
          options: { secrets: { index_token: { gcpSecretManager: TOKEN_VERSION } } },
        },
      ),
      run,
    );
    expect(runInImage(built.image, ['cat', '/token-hash'])).toBe(
      `${createHash('sha256').update(INDEX_TOKEN).digest('hex')}\n`,
    );
    const create = gcp.cloudbuild.calls.find(
      (c) => c.method === 'POST' && (c.body as { images?: string[] })?.images?.[0] === imageName,
    );
    // Cloud Build's shape (API reference, Build: availableSecrets.secretManager[{versionName, env}], and
    // BuildStep.secretEnv naming those env entries).
    expect(create?.body).toMatchObject({
      availableSecrets: { secretManager: [{ versionName: TOKEN_VERSION, env: 'ZENBUILD_SECRET_1' }] },
      steps: [{ secretEnv: ['ZENBUILD_SECRET_1'], env: ['DOCKER_BUILDKIT=1'] }],
    });
    expect(JSON.stringify(create?.body)).not.toContain(INDEX_TOKEN);
    expect(JSON.stringify(run.events)).not.toContain(INDEX_TOKEN);
    expect(savedImage('docker', built.image).includes(Buffer.from(INDEX_TOKEN))).toBe(false);

    // A version Secret Manager does not have fails the build, saying which.
    const missing = await failure(
      builderFor(stack).build(
        await buildRequest(`${open}/zenbuild-test/gcp-secrets:${unique()}`, `FROM ${baseImage}\n`, {
          registry: stack.containerRegistry,
          options: { secrets: { t: { gcpSecretManager: `projects/${PROJECT}/secrets/gone/versions/1` } } },
        }),
        recorder(),
      ),
    );
    expect(missing.code).toBe('BUILD_FAILED');
    expect(missing.message).toContain(`projects/${PROJECT}/secrets/gone/versions/1`);
  });

  it('cancels the remote build when the run is cancelled', async () => {
    const stack = gcpStack();
    const controller = new AbortController();
    const run = recorder(controller.signal);
    const error = await failure(
      builderFor(stack).build(
        await buildRequest(
          `${open}/zenbuild-test/gcp-cancel:${unique()}`,
          `FROM ${baseImage}\nRUN echo sleeping-in-gcp && sleep 60\n`,
          {
            registry: stack.containerRegistry,
          },
        ),
        {
          ...run,
          emit: (e) => {
            run.emit(e);
            if (e.type === 'log' && e.line.endsWith('sleeping-in-gcp')) controller.abort();
          },
        },
      ),
    );
    expect(error.code).toBe('CANCELLED');
    const id = String(error.details.remoteBuildId);
    expect(gcp.cloudbuild.calls.some((c) => c.path === `/v1/projects/${PROJECT}/builds/${id}:cancel`)).toBe(
      true,
    );
    await gcp.cloudbuild.settled();
    expect(gcp.cloudbuild.builds.get(id)?.status).toBe('CANCELLED');
  });

  it('a log object that never appears is a warning naming it, not silence', async () => {
    // A wrong logs bucket or storage endpoint looks like "not written yet" (404) to a follower.
    gcp.cloudbuild.options.writeLogObjects = false;
    try {
      const stack = gcpStack();
      const run = recorder();
      const built = await builderFor(stack).build(
        await buildRequest(
          `${open}/zenbuild-test/gcp-no-log:${unique()}`,
          `FROM ${baseImage}\nRUN echo no-log\n`,
          {
            registry: stack.containerRegistry,
          },
        ),
        run,
      );
      expect(built.digest).toMatch(/^sha256:/);
      const warnings = run.events.flatMap((e) => (e.type === 'warning' ? [e.message] : []));
      expect(warnings).toEqual([
        expect.stringMatching(
          new RegExp(
            `^The build log gs://\\S+/log-${built.remoteBuildId}\\.txt does not exist \\(404\\) although the build has ended`,
          ),
        ),
      ]);
    } finally {
      gcp.cloudbuild.options.writeLogObjects = true;
    }
  });

  it.each([
    ['global', {}],
    ['regional', { location: 'europe-west1' }],
  ])(
    'a %s build that Cloud Build times out says TIMEOUT, its step and log, whatever the operation error code',
    async (_kind, where) => {
      // The fake ends a timed-out build's operation with DEADLINE_EXCEEDED (4), not UNKNOWN (2).
      const stack = gcpStack({ build_timeout: 3, ...where });
      const error = await failure(
        builderFor(stack).build(
          await buildRequest(
            `${open}/zenbuild-test/gcp-cb-timeout:${unique()}`,
            `FROM ${baseImage}\nRUN echo slow-step && sleep 30\n`,
            {
              registry: stack.containerRegistry,
            },
          ),
          recorder(),
        ),
      );
      expect(error.code).toBe('BUILD_FAILED');
      expect(error.message).toMatch(
        /The Cloud Build build \S+ ended TIMEOUT: step 0 \(gcr\.io\/cloud-builders\/docker\) TIMEOUT/,
      );
      expect(error.message).toContain('slow-step');
      expect(error.message).toMatch(/Logs: https:\/\//);
    },
  );

  it('cancels and fails when the overall timeout passes', async () => {
    const stack = gcpStack();
    const error = await failure(
      builderFor(stack, { overallTimeoutMs: 2500 }).build(
        await buildRequest(
          `${open}/zenbuild-test/gcp-timeout:${unique()}`,
          `FROM ${baseImage}\nRUN sleep 60\n`,
          {
            registry: stack.containerRegistry,
          },
        ),
        recorder(),
      ),
    );
    expect(error.code).toBe('BUILD_FAILED');
    expect(error.message).toMatch(/did not finish in time and was cancelled/);
    await gcp.cloudbuild.settled();
    expect(gcp.cloudbuild.builds.get(String(error.details.remoteBuildId))?.status).toBe('CANCELLED');
  });

  it('says clearly when the API is off, permission is missing, the bucket or the pool does not exist', async () => {
    const attempt = async (stack: Stack) =>
      failure(
        builderFor(stack).build(
          await buildRequest(
            `${open}/zenbuild-test/gcp-wrong:${unique()}`,
            `FROM ${baseImage}\nRUN echo ${unique()}\n`,
            {
              registry: stack.containerRegistry,
            },
          ),
          recorder(),
        ),
      );
    const off = await attempt(gcpStack({ project: 'api-off-project' }));
    expect(off.code).toBe('NOT_AVAILABLE');
    expect(off.message).toMatch(
      /cloudbuild\.googleapis\.com is not enabled .*gcloud services enable cloudbuild\.googleapis\.com/,
    );

    const denied = await attempt(gcpStack({ project: 'someone-elses' }));
    expect(denied.code).toBe('NOT_AVAILABLE');
    expect(denied.message).toMatch(
      /Permission denied to create the Cloud Build build .*`cloudbuild\.builds\.create` \(e\.g\. the role roles\/cloudbuild\.builds\.editor\)/,
    );

    const noBucket = await attempt(gcpStack({}, 'gs://no-such-bucket/zenml'));
    expect(noBucket.code).toBe('NOT_AVAILABLE');
    expect(noBucket.message).toMatch(
      /gs:\/\/no-such-bucket\/zenml\/cloud-build-contexts\/[0-9a-f]{64}\.tar\.gz: the bucket does not exist/,
    );

    const pool = await attempt(
      gcpStack({ worker_pool: `projects/${PROJECT}/locations/europe-west1/workerPools/nope` }),
    );
    expect(pool.code).toBe('INVALID_INPUT');
    expect(pool.message).toMatch(/Check `worker_pool` in the image builder config/);
  });

  it('refuses options Cloud Build cannot honour before uploading anything', async () => {
    const stack = gcpStack();
    const before = gcp.gcs.calls.length;
    const error = await failure(
      builderFor(stack).build(
        await buildRequest(`${open}/zenbuild-test/gcp-squash:${unique()}`, `FROM ${baseImage}\n`, {
          registry: stack.containerRegistry,
          options: { squash: true },
        }),
        recorder(),
      ),
    );
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toMatch(/does not support the build option `squash`/);
    expect(gcp.gcs.calls.length).toBe(before);
    // The same refusal up front, as zenbuild build asks for every image before the first one starts.
    const builder = builderFor(stack);
    expect(() => builder.validateOptions?.({ squash: true })).toThrow(
      /does not support the build option `squash`/,
    );
    expect(() => builder.validateOptions?.({ labels: { team: 'ml' }, noCache: true })).not.toThrow();
  });
});
