import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import {
  BatchGetProjectsCommand,
  type Build,
  CodeBuildClient,
  type EnvironmentVariable,
  StartBuildCommand,
  StopBuildCommand,
} from '@aws-sdk/client-codebuild';
import { ECRClient } from '@aws-sdk/client-ecr';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  type Availability,
  type BuildOptions,
  type BuildRequest,
  type BuiltImage,
  type ContainerRegistry,
  type ImageBuilder,
  imageTarget,
  invalidInput,
  type LogTail,
  type RunContext,
  registryHost,
  requirePushRegistry,
  runRemoteBuild,
  type Stack,
  type StackProblem,
  ZenbuildError,
} from '@zenbuild/core/backend';
import {
  createBuildspec,
  DIGEST_VARIABLE,
  PASSWORD_VARIABLE,
  type RegistryLogin,
  serializeBuildspec,
  USERNAME_VARIABLE,
} from './buildspec.js';
import { type AwsClientSettings, awsClientSettings, s3Client } from './clients.js';
import { type AwsImageBuilderConfig, type AwsImageBuilderOptions, FLAVOR } from './config.js';
import { ensureEcrRepository, parseEcrImage } from './ecr.js';
import { awsError, BACKEND } from './errors.js';
import { followBuild } from './follow.js';
import { codeBuildSecrets, dockerBuildFlags } from './options.js';
import { s3Location, uploadIfMissing } from './upload.js';

/**
 * The `aws` image builder (ZenML's AWSImageBuilder in src/zenml/integrations/aws/image_builders/, without its gaps): the context goes to S3 as a content-addressed
 * zip (uploaded once), CodeBuild runs a generated buildspec that builds, pushes and exports the digest,
 * and the result is `repository@sha256:...`. The build is followed with its logs; Ctrl-C stops it.
 */
export class AwsImageBuilder implements ImageBuilder {
  readonly flavor = FLAVOR;
  readonly isBuildingLocally = false;
  readonly codebuild: CodeBuildClient;
  readonly s3: S3Client;
  readonly logs: CloudWatchLogsClient;
  readonly #config: AwsClientSettings;

  constructor(
    readonly config: AwsImageBuilderConfig,
    readonly stack: Stack,
    readonly options: AwsImageBuilderOptions = {},
  ) {
    const env = options.env ?? process.env;
    const common = awsClientSettings(config);
    this.#config = common;
    this.codebuild = new CodeBuildClient(common);
    this.logs = new CloudWatchLogsClient(common);
    this.s3 = s3Client(common, env);
  }

  validateStack(stack: Stack): StackProblem[] {
    return awsStackProblems(this.config, stack);
  }

  validateOptions(options: BuildOptions): void {
    dockerBuildFlags(options);
  }

  async check(): Promise<Availability> {
    const project = this.config.code_build_project;
    try {
      const reply = await this.codebuild.send(new BatchGetProjectsCommand({ names: [project] }));
      const region = await this.codebuild.config.region();
      if ((reply.projects ?? []).length === 0) {
        return {
          available: false,
          reason: `CodeBuild project \`${project}\` does not exist in ${region}.`,
          hint: 'Create it (any source; zenbuild overrides source, image and buildspec) or fix `code_build_project`.',
        };
      }
      return { available: true, reason: `CodeBuild project \`${project}\` in ${region} answers.` };
    } catch (error) {
      const e = awsError(error, {
        action: 'codebuild:BatchGetProjects',
        resource: `CodeBuild project \`${project}\``,
      });
      return { available: false, reason: e.message };
    }
  }

  async build(request: BuildRequest, run: RunContext): Promise<BuiltImage> {
    const registry = requirePushRegistry(request, FLAVOR);
    const { repository, tag } = imageTarget(request.imageName, registry);
    const region = await this.#region();
    const login = this.#login(registry, region);
    // Everything that can be refused is refused before anything is uploaded.
    const buildspec = serializeBuildspec(
      createBuildspec({
        image: request.imageName,
        repository,
        registryHost: registryHost(registry),
        dockerfile: request.dockerfile,
        options: request.options,
        login,
      }),
    );

    if (registry.flavor === 'aws') {
      const repositoryRegion = parseEcrImage(repository)?.region;
      await ensureEcrRepository(
        new ECRClient({ ...this.#config, ...(repositoryRegion ? { region: repositoryRegion } : {}) }),
        repository,
        request.imageName,
        run,
      );
    }

    const storePath = this.stack.artifactStore.path;
    if (this.stack.artifactStore.flavor !== 's3' || !storePath) {
      throw invalidInput('The aws image builder requires an S3 artifact store (`path: s3://bucket/prefix`).');
    }
    const source = s3Location(storePath, 'code-build-contexts', `${request.context.hash}.zip`);
    const project = this.config.code_build_project;
    return runRemoteBuild(
      request,
      run,
      {
        service: 'CodeBuild',
        backend: BACKEND,
        stopVerb: 'stop',
        upload: {
          url: `s3://${source.bucket}/${source.key}`,
          store: 'S3',
          put: (onProgress) =>
            uploadIfMissing(this.s3, source, () => request.context.archive('zip') as Readable, {
              contentType: 'application/zip',
              signal: run.signal,
              onProgress,
            }),
        },
        start: async () => {
          const started = await this.#start({
            source: `${source.bucket}/${source.key}`,
            buildspec,
            login,
            registry,
            options: request.options,
          });
          const id = started.id ?? '';
          return { id, logsUrl: consoleUrl(region, project, id) };
        },
        follow: async (started, deadline, tail) => {
          const build = await followBuild({
            codebuild: this.codebuild,
            logs: this.logs,
            buildId: started.id,
            image: request.imageName,
            run,
            deadline,
            tail,
            ...(this.options.poll ? { poll: this.options.poll } : {}),
          });
          if (build.buildStatus !== 'SUCCEEDED') return { succeeded: false, ...failure(build, tail) };
          const digest = build.exportedEnvironmentVariables?.find((v) => v.name === DIGEST_VARIABLE)?.value;
          return { succeeded: true, digest };
        },
        stop: async (started) => {
          await this.codebuild.send(new StopBuildCommand({ id: started.id }), {
            abortSignal: AbortSignal.timeout(30_000),
          });
        },
        noDigest: `exported no image digest (${DIGEST_VARIABLE}); the image may not have been pushed`,
      },
      {
        target: { repository, tag },
        timeoutMs:
          this.options.overallTimeoutMs ??
          (this.config.build_timeout + this.config.queued_timeout + 300) * 1000,
      },
    );
  }

  async #region(): Promise<string> {
    try {
      return await this.codebuild.config.region();
    } catch (error) {
      throw invalidInput(
        `The aws image builder needs a region: set \`region\` in its config or AWS_REGION (${(error as Error).message}).`,
        { path: 'components.image_builder.config.region' },
      );
    }
  }

  #login(registry: ContainerRegistry, region: string): RegistryLogin {
    if (!this.config.implicit_container_registry_auth) return { kind: 'credentials' };
    if (registry.flavor === 'aws') return { kind: 'ecr', region: ecrRegion(registry.uri) ?? region };
    return { kind: 'none' };
  }

  async #start(input: {
    source: string;
    buildspec: string;
    login: RegistryLogin;
    registry: ContainerRegistry;
    options: BuildOptions;
  }) {
    const project = this.config.code_build_project;
    const variables: EnvironmentVariable[] = Object.entries(this.config.custom_env_vars).map(
      ([name, value]) => ({
        name,
        value,
        type: 'PLAINTEXT',
      }),
    );
    // Each build secret: a variable CodeBuild fills from its store when the build starts.
    for (const secret of codeBuildSecrets(input.options)) {
      variables.push(
        'awsSecretsManager' in secret.source
          ? { name: secret.variable, value: secret.source.awsSecretsManager, type: 'SECRETS_MANAGER' }
          : {
              name: secret.variable,
              value: 'awsParameterStore' in secret.source ? secret.source.awsParameterStore : '',
              type: 'PARAMETER_STORE',
            },
      );
    }
    const credentials = this.config.registry_credentials;
    if (input.login.kind === 'credentials' && credentials) {
      variables.push({ name: USERNAME_VARIABLE, value: credentials.username, type: 'PLAINTEXT' });
      variables.push(
        credentials.password_secret
          ? { name: PASSWORD_VARIABLE, value: credentials.password_secret, type: 'SECRETS_MANAGER' }
          : { name: PASSWORD_VARIABLE, value: credentials.password_parameter ?? '', type: 'PARAMETER_STORE' },
      );
    }
    const params = {
      projectName: project,
      sourceTypeOverride: 'S3' as const,
      sourceLocationOverride: input.source,
      buildspecOverride: input.buildspec,
      environmentTypeOverride: 'LINUX_CONTAINER' as const,
      imageOverride: this.config.build_image,
      computeTypeOverride: this.config.compute_type,
      privilegedModeOverride: true,
      environmentVariablesOverride: variables,
      artifactsOverride: { type: 'NO_ARTIFACTS' as const },
      timeoutInMinutesOverride: Math.ceil(this.config.build_timeout / 60),
      queuedTimeoutInMinutesOverride: Math.ceil(this.config.queued_timeout / 60),
    };
    // Derived from everything the build is (context hash, buildspec, image, project) plus a nonce of
    // this call: the SDK's retries of this StartBuild cannot start a second build, while a new build
    // of the same inputs (after a failure or a stop) does start one.
    const idempotencyToken = `${createHash('sha256').update(JSON.stringify(params)).digest('hex').slice(0, 32)}-${randomBytes(8).toString('hex')}`;
    try {
      const reply = await this.codebuild.send(new StartBuildCommand({ ...params, idempotencyToken }));
      if (!reply.build?.id)
        throw new ZenbuildError('BUILD_FAILED', 'CodeBuild accepted the build but returned no build id.');
      return reply.build;
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === 'ResourceNotFoundException') {
        throw new ZenbuildError(
          'NOT_AVAILABLE',
          `CodeBuild project \`${project}\` was not found in ${await this.#region()}. Create it (zenbuild overrides its source, image and buildspec) or fix \`code_build_project\` in the stack.`,
          { backend: BACKEND, cause: error },
        );
      }
      throw awsError(error, { action: 'codebuild:StartBuild', resource: `CodeBuild project \`${project}\`` });
    }
  }
}

/** The flavor's own stack rules, on top of core's (registry and S3 store are checked there). */
export function awsStackProblems(config: AwsImageBuilderConfig, stack: Stack): StackProblem[] {
  const problems: StackProblem[] = [];
  const registry = stack.containerRegistry;
  const at = 'components.image_builder.config';
  if (!config.implicit_container_registry_auth && !config.registry_credentials) {
    problems.push({
      path: `${at}.registry_credentials`,
      severity: 'error',
      message:
        'With `implicit_container_registry_auth: false` the build logs in with `registry_credentials` (a username and a Secrets Manager or Parameter Store reference for the password); give them.',
    });
  }
  if (config.implicit_container_registry_auth && config.registry_credentials) {
    problems.push({
      path: `${at}.registry_credentials`,
      severity: 'warning',
      message:
        'is ignored while `implicit_container_registry_auth` is true (the build uses its service role).',
    });
  }
  if (registry?.credentials && registry.flavor !== 'aws') {
    problems.push({
      path: 'components.container_registry.credentials',
      severity: 'warning',
      message:
        'are not sent to CodeBuild (zenbuild never puts passwords into a build in plain text); use `registry_credentials` with `implicit_container_registry_auth: false` in the image builder config.',
    });
  }
  return problems;
}

function ecrRegion(uri: string): string | undefined {
  return /\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com/.exec(uri)?.[1];
}

function consoleUrl(region: string, project: string, buildId: string): string {
  return `https://${region}.console.aws.amazon.com/codesuite/codebuild/projects/${encodeURIComponent(project)}/build/${encodeURIComponent(buildId)}/?region=${region}`;
}

/** What failed and, for a missing ECR repository, what to do. */
function failure(build: Build, tail: LogTail): { summary: string; hint: string } {
  const failed = (build.phases ?? []).find((p) => p.phaseStatus && p.phaseStatus !== 'SUCCEEDED');
  const why = failed
    ? `phase ${failed.phaseType} ${failed.phaseStatus}${(failed.contexts ?? [])
        .map((c) => c.message)
        .filter(Boolean)
        .map((m) => `: ${m}`)
        .join('')}`
    : `status ${build.buildStatus}`;
  const hint = tail.lines.some((l) => /repository with name .* does not exist|name unknown/i.test(l))
    ? '\nThe ECR repository does not exist: ECR needs it created first (`aws ecr create-repository --repository-name <name>`).'
    : '';
  return { summary: `${build.buildStatus}: ${why}`, hint };
}
