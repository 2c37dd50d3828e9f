import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import {
  AwsImageBuilder,
  awsImageBuilderConfigSchema,
  createBuildspec,
  uploadIfMissing,
} from '@zenbuild/aws';
import { buildRequest, failure, imageBuilderConformance } from '@zenbuild/conformance';
import { type BuildEvent, type Stack, stackFromData } from '@zenbuild/core';
import { RegistryClient } from '@zenbuild/core/backend';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { FAKE_AWS_ENV, type FakeAws, localBuildEnv, startFakeAws } from '../fakes/aws/index.js';
import { imageHistory, runInImage, savedImage } from '../infra/dockerd.js';

const { open, auth, user, password } = inject('registries');
const baseImage = inject('baseImage');
const unique = () => Math.random().toString(36).slice(2, 8);
const PROJECT = 'zenbuild-builds';
const BUCKET = 'zenbuild-artifacts';
// The values CodeBuild reads from Secrets Manager and Parameter Store into the build's variables.
const INDEX_TOKEN = `tok-${unique()}${unique()}-aws`;
const NETRC = `machine index login ci password netrc-${unique()}${unique()}`;

let aws: FakeAws;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  aws = await startFakeAws({
    projects: [PROJECT],
    buckets: [BUCKET],
    secrets: { 'ci/registry-password': password, 'ci/index-token': INDEX_TOKEN },
    parameters: { '/ci/netrc': NETRC },
    buildEnv: localBuildEnv(),
  });
  // The SDK's default credential chain reads these, as it would on a developer's machine.
  for (const [key, value] of Object.entries(FAKE_AWS_ENV)) {
    saved[key] = process.env[key];
    process.env[key] = value;
  }
});

afterAll(async () => {
  await aws?.close();
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

function awsStack(
  registry: Record<string, unknown>,
  config: Record<string, unknown> = {},
  path = `s3://${BUCKET}/zenml`,
) {
  return stackFromData({
    name: 'aws-e2e',
    components: {
      image_builder: {
        flavor: 'aws',
        config: { code_build_project: PROJECT, endpoint: aws.endpoint, ...config },
      },
      container_registry: { flavor: 'default', ...registry },
      artifact_store: { flavor: 's3', path },
    },
  }).stack;
}

function builderFor(stack: Stack, options: ConstructorParameters<typeof AwsImageBuilder>[2] = {}) {
  const config = awsImageBuilderConfigSchema.parse(stack.imageBuilder.config);
  return new AwsImageBuilder(config, stack, { poll: { initialMs: 100, maxMs: 400 }, ...options });
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function recorder(signal = new AbortController().signal) {
  const events: BuildEvent[] = [];
  return { events, signal, emit: (event: BuildEvent) => events.push(event) };
}

const registryClient = new RegistryClient({
  env: { DOCKER_CONFIG: '/nonexistent-zenbuild' },
  credentials: { [auth]: { username: user, password } },
});

imageBuilderConformance(
  'aws',
  () => ({ builder: builderFor(awsStack({ uri: open })), baseImage, run: runInImage }),
  { registries: inject('registries'), remote: { registryFlavor: 'default' } },
);

describe('AwsImageBuilder against the CodeBuild + S3 + Logs fake', () => {
  it('uploads the zip, runs the generated buildspec, pushes, and returns the digest the registry reports', async () => {
    const stack = awsStack({ uri: open });
    const imageName = `${open}/zenbuild-test/aws-builder:${unique()}`;
    const run = recorder();
    const id = unique();
    const request = await buildRequest(
      imageName,
      `FROM ${baseImage}\nARG GREETING\nCOPY app.py /app/app.py\nRUN echo "$GREETING" > /greeting && echo built-remotely-${id}\n`,
      { registry: stack.containerRegistry, options: { buildArgs: { GREETING: "it's $HOME; rm -rf /" } } },
    );
    const built = await builderFor(stack).build(request, run);

    expect(built.image).toBe(`${open}/zenbuild-test/aws-builder@${built.digest}`);
    expect(await registryClient.manifestDigest(imageName)).toBe(built.digest);
    // The build argument reached the image byte for byte: quoting, not templating.
    expect(runInImage(built.image, ['cat', '/greeting', '/app/app.py'])).toBe(
      `it's $HOME; rm -rf /\nprint("hello from the context")\n`,
    );
    // The context went to S3 under its content hash, as a zip.
    const object = aws.s3.object(BUCKET, `zenml/code-build-contexts/${request.context.hash}.zip`);
    expect(object?.body.subarray(0, 2).toString()).toBe('PK');
    // Logs were streamed while it ran, and phases reported.
    const lines = run.events.flatMap((e) => (e.type === 'log' ? [e.line] : []));
    expect(lines).toContain(`built-remotely-${id}`);
    const phases = run.events.flatMap((e) => (e.type === 'phase' ? [e.phase] : []));
    expect(phases).toEqual(
      expect.arrayContaining([
        'upload',
        'uploaded',
        'codebuild started',
        'codebuild build',
        'codebuild post_build',
      ]),
    );
    expect(built.remoteBuildId).toMatch(new RegExp(`^${PROJECT}:`));
    expect(built.logsUrl).toContain('console.aws.amazon.com/codesuite/codebuild');

    const started = aws.codebuild.builds.get(built.remoteBuildId as string);
    expect(started?.request).toMatchObject({
      projectName: PROJECT,
      sourceTypeOverride: 'S3',
      sourceLocationOverride: `${BUCKET}/zenml/code-build-contexts/${request.context.hash}.zip`,
      privilegedModeOverride: true,
      imageOverride: 'bentolor/docker-dind-awscli',
      computeTypeOverride: 'BUILD_GENERAL1_SMALL',
      artifactsOverride: { type: 'NO_ARTIFACTS' },
    });
    expect(String(started?.request.idempotencyToken)).toMatch(/^[0-9a-f]{32}-[0-9a-f]{16}$/);
    expect(parse(String(started?.request.buildspecOverride))).toEqual(
      createBuildspec({
        image: imageName,
        repository: imageName.split(':').slice(0, -1).join(':'),
        registryHost: open,
        dockerfile: 'Dockerfile',
        options: request.options,
        login: { kind: 'none' },
      }),
    );
  });

  it('uploads nothing the second time the same context is built', async () => {
    const stack = awsStack({ uri: open });
    const request = await buildRequest(
      `${open}/zenbuild-test/aws-twice:${unique()}`,
      `FROM ${baseImage}\nRUN echo twice\n`,
      {
        registry: stack.containerRegistry,
      },
    );
    const builder = builderFor(stack);
    await builder.build(request, recorder());
    const before = aws.s3.calls.length;
    const second = recorder();
    await builder.build(request, second);
    const calls = aws.s3.calls.slice(before).map((c) => c.operation);
    expect(calls).toEqual(['HeadObject']);
    expect(second.events).toContainEqual(expect.objectContaining({ type: 'phase', phase: 'upload skipped' }));
  });

  it('logs in with a Secrets Manager reference and never sends the password', async () => {
    const stack = awsStack(
      { uri: auth },
      {
        implicit_container_registry_auth: false,
        registry_credentials: { username: user, password_secret: 'ci/registry-password' },
      },
    );
    const imageName = `${auth}/zenbuild-test/aws-private:${unique()}`;
    const built = await builderFor(stack).build(
      await buildRequest(imageName, `FROM ${baseImage}\nRUN echo ${unique()} > /id\n`, {
        registry: stack.containerRegistry,
      }),
      recorder(),
    );
    expect(await registryClient.manifestDigest(imageName)).toBe(built.digest);
    const request = aws.codebuild.builds.get(built.remoteBuildId as string)?.request;
    expect(JSON.stringify(request)).not.toContain(password);
    expect(request?.environmentVariablesOverride).toContainEqual({
      name: 'ZENBUILD_REGISTRY_PASSWORD',
      value: 'ci/registry-password',
      type: 'SECRETS_MANAGER',
    });
  });

  it('mounts build secrets CodeBuild reads from Secrets Manager and Parameter Store: no value leaves this machine or reaches the image', async () => {
    const stack = awsStack({ uri: open });
    const imageName = `${open}/zenbuild-test/aws-secrets:${unique()}`;
    const run = recorder();
    const built = await builderFor(stack).build(
      await buildRequest(
        imageName,
        `FROM ${baseImage}\nRUN --mount=type=secret,id=index_token --mount=type=secret,id=netrc echo ${unique()} && sha256sum /run/secrets/index_token | cut -c1-64 > /token-hash && grep -c password /run/secrets/netrc > /netrc-lines\n`,
        {
          registry: stack.containerRegistry,
          options: {
            secrets: {
              index_token: { awsSecretsManager: 'ci/index-token' },
              netrc: { awsParameterStore: '/ci/netrc' },
            },
          },
        },
      ),
      run,
    );
    expect(runInImage(built.image, ['cat', '/token-hash'])).toBe(`${sha256(INDEX_TOKEN)}\n`);
    expect(runInImage(built.image, ['cat', '/netrc-lines'])).toBe('1\n');
    // The StartBuild request names the stores, never a value (CodeBuild API reference,
    // EnvironmentVariable: type SECRETS_MANAGER or PARAMETER_STORE, `value` the secret's or parameter's
    // name); so do the buildspec and the logs.
    const request = aws.codebuild.builds.get(built.remoteBuildId as string)?.request;
    expect(request?.environmentVariablesOverride).toEqual(
      expect.arrayContaining([
        { name: 'ZENBUILD_SECRET_1', value: 'ci/index-token', type: 'SECRETS_MANAGER' },
        { name: 'ZENBUILD_SECRET_2', value: '/ci/netrc', type: 'PARAMETER_STORE' },
      ]),
    );
    for (const text of [JSON.stringify(request), JSON.stringify(run.events)]) {
      expect(text).not.toContain(INDEX_TOKEN);
      expect(text).not.toContain(NETRC);
    }
    expect(imageHistory('docker', built.image)).not.toContain(INDEX_TOKEN);
    expect(savedImage('docker', built.image).includes(Buffer.from(INDEX_TOKEN))).toBe(false);
  });

  it('refuses a secret from this machine before uploading anything: it would be in the build', async () => {
    const stack = awsStack({ uri: open });
    const before = aws.s3.calls.length;
    const error = await failure(
      builderFor(stack).build(
        await buildRequest(`${open}/zenbuild-test/aws-local-secret:${unique()}`, `FROM ${baseImage}\n`, {
          registry: stack.containerRegistry,
          options: { secrets: { token: { env: 'HOME' } } },
        }),
        recorder(),
      ),
    );
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toMatch(/takes the build secret `token` only from Secrets Manager/);
    expect(aws.s3.calls.length).toBe(before);
  });

  it('a failing RUN fails the build with its phase, its log lines and the console link, and pushes nothing', async () => {
    const stack = awsStack({ uri: open });
    const imageName = `${open}/zenbuild-test/aws-fails:${unique()}`;
    const error = await failure(
      builderFor(stack).build(
        await buildRequest(imageName, `FROM ${baseImage}\nRUN echo about-to-fail && exit 3\n`, {
          registry: stack.containerRegistry,
        }),
        recorder(),
      ),
    );
    expect(error.code).toBe('BUILD_FAILED');
    expect(error.message).toMatch(/FAILED: phase BUILD FAILED: Error while executing command: docker build/);
    expect(error.message).toContain('about-to-fail');
    expect(error.message).toContain('console.aws.amazon.com');
    expect(error.details.remoteBuildId).toMatch(new RegExp(`^${PROJECT}:`));
    expect(await registryClient.exists(imageName)).toBe(false);
  });

  it("a failing build's last log lines arrive although CloudWatch answers empty pages before them", async () => {
    // GetLogEvents (API reference): empty pages do not end the stream while the token still changes.
    aws.codebuild.options.emptyLogPages = 3;
    try {
      const stack = awsStack({ uri: open });
      const error = await failure(
        builderFor(stack).build(
          await buildRequest(
            `${open}/zenbuild-test/aws-empty-pages:${unique()}`,
            `FROM ${baseImage}\nRUN echo last-words-before-failing && exit 5\n`,
            { registry: stack.containerRegistry },
          ),
          recorder(),
        ),
      );
      expect(error.code).toBe('BUILD_FAILED');
      expect(error.message).toContain('last-words-before-failing');
      expect(error.message).toMatch(
        /Phase context status code: COMMAND_EXECUTION_ERROR Message: Error while executing command/,
      );
    } finally {
      aws.codebuild.options.emptyLogPages = 0;
    }
  });

  describe("the build image's Docker daemon (CodeBuild's samples start dockerd in the install phase)", () => {
    /**
     * A build image whose daemon is not running yet: `docker info` fails until its `dockerd` has started
     * (a stand-in that comes up after `delay` seconds, or never); every other docker command is the real
     * CLI on this machine's daemon.
     */
    function imageWithoutDaemon(delay: number | 'never') {
      const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-no-daemon-'));
      const docker = spawnSync('sh', ['-c', 'command -v docker'], { encoding: 'utf8' }).stdout.trim();
      const script = (name: string, body: string) => {
        writeFileSync(path.join(dir, name), `#!/bin/sh\n${body}\n`);
        chmodSync(path.join(dir, name), 0o755);
      };
      script(
        'docker',
        `if [ "$1" = info ] && [ ! -e ${dir}/up ]; then echo "Cannot connect to the Docker daemon" >&2; exit 1; fi\nexec ${docker} "$@"`,
      );
      script(
        'dockerd',
        `echo "$@" > ${dir}/args\n${delay === 'never' ? 'exit 0' : `sleep ${delay}; touch ${dir}/up`}`,
      );
      const env = localBuildEnv();
      aws.codebuild.options.buildEnv = { ...env, PATH: `${dir}:${env.PATH}`, ZENBUILD_DOCKERD_WAIT: '3' };
      return dir;
    }

    afterAll(() => {
      aws.codebuild.options.buildEnv = localBuildEnv();
    });

    it('starts dockerd when docker info fails, waits for it, and says so in the log', async () => {
      const dir = imageWithoutDaemon(1);
      const stack = awsStack({ uri: open });
      const run = recorder();
      const built = await builderFor(stack).build(
        await buildRequest(
          `${open}/zenbuild-test/aws-dockerd:${unique()}`,
          `FROM ${baseImage}\nRUN echo daemon-started\n`,
          {
            registry: stack.containerRegistry,
          },
        ),
        run,
      );
      expect(built.digest).toMatch(/^sha256:/);
      expect(readFileSync(path.join(dir, 'args'), 'utf8')).toMatch(
        /^--host=unix:\/\/\/var\/run\/docker\.sock|^--host=/,
      );
      const lines = run.events.flatMap((e) => (e.type === 'log' ? [e.line] : []));
      expect(lines).toContain(
        'zenbuild: docker info failed: starting dockerd (the build image runs no Docker daemon)',
      );
      expect(lines.some((l) => /^zenbuild: dockerd is up after \d+ s$/.test(l))).toBe(true);
    });

    it('fails the install phase, with the daemon log, when dockerd does not come up in time', async () => {
      const dir = imageWithoutDaemon('never');
      const stack = awsStack({ uri: open });
      const error = await failure(
        builderFor(stack).build(
          await buildRequest(
            `${open}/zenbuild-test/aws-no-dockerd:${unique()}`,
            `FROM ${baseImage}\nRUN echo x\n`,
            {
              registry: stack.containerRegistry,
            },
          ),
          recorder(),
        ),
      );
      expect(existsSync(path.join(dir, 'args'))).toBe(true);
      expect(error.code).toBe('BUILD_FAILED');
      expect(error.message).toMatch(/phase INSTALL FAILED/);
      expect(error.message).toContain('zenbuild: dockerd did not answer within 3 s');
    });
  });

  it('stops the remote build when the run is cancelled', async () => {
    const stack = awsStack({ uri: open });
    const controller = new AbortController();
    const run = recorder(controller.signal);
    const pending = failure(
      builderFor(stack).build(
        await buildRequest(
          `${open}/zenbuild-test/aws-cancel:${unique()}`,
          `FROM ${baseImage}\nRUN echo sleeping && sleep 60\n`,
          {
            registry: stack.containerRegistry,
          },
        ),
        {
          ...run,
          emit: (e) => {
            run.emit(e);
            if (e.type === 'log' && e.line === 'sleeping') controller.abort();
          },
        },
      ),
    );
    const error = await pending;
    expect(error.code).toBe('CANCELLED');
    const id = String(error.details.remoteBuildId);
    expect(aws.codebuild.calls.some((c) => c.target.endsWith('.StopBuild') && c.body.id === id)).toBe(true);
    await aws.codebuild.settled();
    expect(aws.codebuild.builds.get(id)?.buildStatus).toBe('STOPPED');
  });

  it('stops the build and fails when the overall timeout passes', async () => {
    const stack = awsStack({ uri: open });
    const error = await failure(
      builderFor(stack, { overallTimeoutMs: 2500 }).build(
        await buildRequest(
          `${open}/zenbuild-test/aws-timeout:${unique()}`,
          `FROM ${baseImage}\nRUN sleep 60\n`,
          {
            registry: stack.containerRegistry,
          },
        ),
        recorder(),
      ),
    );
    expect(error.code).toBe('BUILD_FAILED');
    expect(error.message).toMatch(/did not finish in time and was stopped/);
    await aws.codebuild.settled();
    expect(aws.codebuild.builds.get(String(error.details.remoteBuildId))?.buildStatus).toBe('STOPPED');
  });

  it('says clearly when the project, the bucket or the credentials are wrong', async () => {
    const request = (stack: Stack) =>
      buildRequest(`${open}/zenbuild-test/aws-wrong:${unique()}`, `FROM ${baseImage}\n`, {
        registry: stack.containerRegistry,
      });

    const noProject = awsStack({ uri: open }, { code_build_project: 'nope' });
    const e1 = await failure(builderFor(noProject).build(await request(noProject), recorder()));
    expect(e1.code).toBe('NOT_AVAILABLE');
    expect(e1.message).toMatch(/CodeBuild project `nope` was not found in us-east-1/);

    const noBucket = awsStack({ uri: open }, {}, 's3://no-such-bucket/zenml');
    const e2 = await failure(builderFor(noBucket).build(await request(noBucket), recorder()));
    expect(e2.code).toBe('NOT_AVAILABLE');
    expect(e2.message).toMatch(
      /s3:\/\/no-such-bucket\/zenml\/code-build-contexts\/[0-9a-f]{64}\.zip: the bucket does not exist/,
    );

    process.env.AWS_ACCESS_KEY_ID = 'AKIDWRONG';
    try {
      const stack = awsStack({ uri: open });
      const e3 = await failure(builderFor(stack).build(await request(stack), recorder()));
      expect(e3.code).toBe('NOT_AVAILABLE');
      expect(e3.message).toMatch(/403 Forbidden to s3:GetObject .*the credentials are not valid/);
      const check = await builderFor(stack).check();
      expect(check.available).toBe(false);
      expect(check.reason).toMatch(/AWS refused the credentials for codebuild:BatchGetProjects/);
    } finally {
      process.env.AWS_ACCESS_KEY_ID = FAKE_AWS_ENV.AWS_ACCESS_KEY_ID;
    }
    expect((await builderFor(awsStack({ uri: open })).check()).available).toBe(true);
    expect((await builderFor(noProject).check()).reason).toMatch(/does not exist/);
  });

  it('rides out throttling: the SDK retries StartBuild and BatchGetBuilds', async () => {
    const stack = awsStack({ uri: open });
    const throttle = { StartBuild: 2, BatchGetBuilds: 2 };
    Object.assign(aws.throttle, throttle);
    const imageName = `${open}/zenbuild-test/aws-throttled:${unique()}`;
    const built = await builderFor(stack).build(
      await buildRequest(imageName, `FROM ${baseImage}\nRUN echo ${unique()}\n`, {
        registry: stack.containerRegistry,
      }),
      recorder(),
    );
    expect(aws.throttle).toEqual({ StartBuild: 0, BatchGetBuilds: 0 });
    expect(await registryClient.manifestDigest(imageName)).toBe(built.digest);
  });

  it('says before uploading anything that an ECR repository is missing, with the command to create it', async () => {
    const ecr = '000000000000.dkr.ecr.us-east-1.amazonaws.com';
    const stack = stackFromData({
      name: 'aws-ecr',
      components: {
        image_builder: { flavor: 'aws', config: { code_build_project: PROJECT, endpoint: aws.endpoint } },
        container_registry: { flavor: 'aws', uri: ecr },
        artifact_store: { flavor: 's3', path: `s3://${BUCKET}/zenml` },
      },
    }).stack;
    const s3Before = aws.s3.calls.length;
    const startsBefore = aws.codebuild.calls.filter((c) => c.target.endsWith('.StartBuild')).length;
    const error = await failure(
      builderFor(stack).build(
        await buildRequest(`${ecr}/team/missing-repo:1`, `FROM ${baseImage}\n`, {
          registry: stack.containerRegistry,
        }),
        recorder(),
      ),
    );
    expect(error.code).toBe('NOT_AVAILABLE');
    expect(error.message).toMatch(
      /The ECR repository `team\/missing-repo` does not exist .*`aws ecr create-repository --repository-name team\/missing-repo --region us-east-1`/,
    );
    expect(aws.s3.calls.length).toBe(s3Before);
    expect(aws.codebuild.calls.filter((c) => c.target.endsWith('.StartBuild')).length).toBe(startsBefore);
  });

  it('finds the services through the standard AWS_ENDPOINT_URL_* variables', async () => {
    const names = ['AWS_ENDPOINT_URL_CODEBUILD', 'AWS_ENDPOINT_URL_S3'] as const;
    for (const name of names) process.env[name] = aws.endpoint;
    try {
      const stack = stackFromData({
        name: 'aws-env',
        components: {
          image_builder: { flavor: 'aws', config: { code_build_project: PROJECT } },
          container_registry: { flavor: 'default', uri: open },
          artifact_store: { flavor: 's3', path: `s3://${BUCKET}/zenml` },
        },
      }).stack;
      const builder = builderFor(stack);
      expect(await builder.check()).toMatchObject({ available: true });
      const key = `env-endpoint/${unique()}.zip`;
      const uploaded = await uploadIfMissing(
        builder.s3,
        { bucket: BUCKET, key },
        () => Readable.from([Buffer.from('zip')]),
        {
          contentType: 'application/zip',
          signal: new AbortController().signal,
        },
      );
      expect(uploaded.uploaded).toBe(true);
      expect(aws.s3.object(BUCKET, key)?.body.toString()).toBe('zip');
    } finally {
      for (const name of names) delete process.env[name];
    }
  });

  it('refuses options CodeBuild cannot honour before uploading anything', async () => {
    const stack = awsStack({ uri: open });
    const before = aws.s3.calls.length;
    const error = await failure(
      builderFor(stack).build(
        await buildRequest(`${open}/zenbuild-test/aws-squash:${unique()}`, `FROM ${baseImage}\n`, {
          registry: stack.containerRegistry,
          options: { squash: true },
        }),
        recorder(),
      ),
    );
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toMatch(/does not support the build option `squash`/);
    expect(aws.s3.calls.length).toBe(before);
    // The same refusal up front, as zenbuild build asks for every image before the first one starts.
    const builder = builderFor(stack);
    expect(() => builder.validateOptions?.({ squash: true })).toThrow(
      /does not support the build option `squash`/,
    );
    expect(() => builder.validateOptions?.({ labels: { team: 'ml' }, noCache: true })).not.toThrow();
  });
});
