import type { Readable } from 'node:stream';
import { CloudBuildClient, protos } from '@google-cloud/cloudbuild';
import type { Storage } from '@google-cloud/storage';
import {
  type Availability,
  type BuildOptions,
  type BuildRequest,
  type BuiltImage,
  type ImageBuilder,
  imageTarget,
  invalidInput,
  type LogTail,
  type RemoteBuildSecret,
  type RunContext,
  requirePushRegistry,
  runRemoteBuild,
  type Stack,
  type StackProblem,
  type StartedRemoteBuild,
} from '@zenbuild/core/backend';
import { googleAuthLibrary, type LROperation } from 'google-gax';
import {
  FLAVOR,
  type GcpImageBuilderConfig,
  type GcpImageBuilderOptions,
  serviceAccountName,
} from './config.js';
import { BACKEND, gcpError } from './errors.js';
import { GcsLogFollower } from './logs.js';
import { cloudBuildSecrets, dockerBuildArgs, dockerFlags } from './options.js';
import { gcsLocation, storageClient, uploadIfMissing } from './upload.js';

type IBuild = protos.google.devtools.cloudbuild.v1.IBuild;
type BuildOperation = LROperation<IBuild, protos.google.devtools.cloudbuild.v1.IBuildOperationMetadata>;
const Status = protos.google.devtools.cloudbuild.v1.Build.Status;

/** A created build: the operation to wait on and the build as created (its logs bucket). */
interface StartedCloudBuild extends StartedRemoteBuild {
  operation: BuildOperation;
  created: IBuild;
}

/**
 * The `gcp` image builder (ZenML's GCPImageBuilder in src/zenml/integrations/gcp/image_builders/, without its gaps): the context goes to GCS as a content-addressed
 * tar.gz (uploaded once), Cloud Build runs `docker build` and pushes `images`, and the result is
 * `repository@sha256:...` from the build's results. Logs stream from the logs bucket; Ctrl-C cancels.
 */
export class GcpImageBuilder implements ImageBuilder {
  readonly flavor = FLAVOR;
  readonly isBuildingLocally = false;
  readonly cloudbuild: CloudBuildClient;
  readonly storage: Storage;

  constructor(
    readonly config: GcpImageBuilderConfig,
    readonly stack: Stack,
    readonly options: GcpImageBuilderOptions = {},
  ) {
    const credentials = {
      ...(config.credentials_file ? { keyFilename: config.credentials_file } : {}),
      ...(config.project ? { projectId: config.project } : {}),
    };
    const endpoint = config.api_endpoint;
    if (endpoint && /^https?:\/\//.test(endpoint)) {
      // An emulator: REST (`fallback`) over the URL's scheme, no credentials.
      const url = new URL(endpoint);
      this.cloudbuild = new CloudBuildClient({
        ...credentials,
        fallback: true,
        protocol: url.protocol.replace(':', ''),
        apiEndpoint: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        authClient: new googleAuthLibrary.PassThroughClient(),
      });
    } else {
      this.cloudbuild = new CloudBuildClient({
        ...credentials,
        ...(endpoint ? { apiEndpoint: endpoint } : {}),
      });
    }
    this.storage = storageClient(config);
  }

  validateStack(stack: Stack): StackProblem[] {
    return gcpStackProblems(this.config, stack);
  }

  validateOptions(options: BuildOptions): void {
    dockerFlags(options);
  }

  async check(): Promise<Availability> {
    try {
      const project = await this.#project();
      return { available: true, reason: `Google Cloud credentials found for project \`${project}\`.` };
    } catch (error) {
      return { available: false, reason: (error as Error).message };
    }
  }

  async build(request: BuildRequest, run: RunContext): Promise<BuiltImage> {
    const registry = requirePushRegistry(request, FLAVOR);
    const { repository, tag } = imageTarget(request.imageName, registry);
    // Everything that can be refused is refused before anything is uploaded.
    const args = dockerBuildArgs(request, this.config.network);
    const project = await this.#project();
    const storePath = this.stack.artifactStore.path;
    if (this.stack.artifactStore.flavor !== 'gcs' || !storePath) {
      throw invalidInput('The gcp image builder requires a GCS artifact store (`path: gs://bucket/prefix`).');
    }

    const source = gcsLocation(storePath, 'cloud-build-contexts', `${request.context.hash}.tar.gz`);
    return runRemoteBuild<StartedCloudBuild>(
      request,
      run,
      {
        service: 'Cloud Build',
        backend: BACKEND,
        stopVerb: 'cancel',
        upload: {
          url: `gs://${source.bucket}/${source.object}`,
          store: 'GCS',
          put: (onProgress) =>
            uploadIfMissing(this.storage, source, () => request.context.archive('tar.gz') as Readable, {
              contentType: 'application/gzip',
              signal: run.signal,
              onProgress,
            }),
        },
        start: () =>
          this.#create(
            project,
            this.#buildSpec(project, args, request.imageName, source, cloudBuildSecrets(request.options)),
          ),
        follow: async (started, deadline, tail) => {
          const logs = this.#logFollower(started.created, started.id, request.imageName, run, tail);
          const finished = await this.#wait(started.operation, project, started.id, deadline, logs);
          await logs?.read(true);
          const status = statusName(finished.status);
          if (status !== 'SUCCESS') return { succeeded: false, summary: failureSummary(finished, status) };
          const pushed =
            (finished.results?.images ?? []).find((i) => i.name === request.imageName) ??
            finished.results?.images?.[0];
          return { succeeded: true, digest: pushed?.digest ?? undefined };
        },
        stop: async (started) => {
          await this.cloudbuild.cancelBuild(this.#buildRef(project, started.id), { timeout: 30_000 });
        },
        noDigest: `reported no digest for ${request.imageName}`,
      },
      {
        target: { repository, tag },
        timeoutMs: this.options.overallTimeoutMs ?? (this.config.build_timeout + 600) * 1000,
      },
    );
  }

  async #create(project: string, build: IBuild): Promise<StartedCloudBuild> {
    const parent = this.config.location ? `projects/${project}/locations/${this.config.location}` : undefined;
    let operation: BuildOperation;
    try {
      // A regional build is created under its parent alone: given a project id too, the client takes
      // the global path, and the build would run outside the region (and its private pool).
      [operation] = await this.cloudbuild.createBuild(
        parent ? { parent, build } : { projectId: project, build },
      );
    } catch (error) {
      throw gcpError(error, {
        action: 'create the Cloud Build build',
        permission: 'cloudbuild.builds.create',
        role: 'roles/cloudbuild.builds.editor',
        resource: `project \`${project}\``,
      });
    }
    const created =
      (operation.metadata as protos.google.devtools.cloudbuild.v1.IBuildOperationMetadata | null)?.build ??
      {};
    const id = created.id ?? '';
    const logsUrl =
      created.logUrl ?? `https://console.cloud.google.com/cloud-build/builds/${id}?project=${project}`;
    return { id, logsUrl, operation, created };
  }

  #buildSpec(
    project: string,
    args: string[],
    image: string,
    source: { bucket: string; object: string },
    secrets: RemoteBuildSecret[],
  ): IBuild {
    const c = this.config;
    // Secrets: Cloud Build reads each version into the step's environment; BuildKit mounts it.
    const step = {
      name: c.cloud_builder_image,
      args,
      ...(secrets.length > 0
        ? { env: ['DOCKER_BUILDKIT=1'], secretEnv: secrets.map((secret) => secret.variable) }
        : {}),
    };
    const options: protos.google.devtools.cloudbuild.v1.IBuildOptions = {
      ...(c.machine_type ? { machineType: c.machine_type } : {}),
      ...(c.logging ? { logging: c.logging } : {}),
      ...(c.worker_pool ? { pool: { name: c.worker_pool } } : {}),
    };
    return {
      source: { storageSource: { bucket: source.bucket, object: source.object } },
      steps: [step],
      ...(secrets.length > 0
        ? {
            availableSecrets: {
              secretManager: secrets.map((secret) => ({
                versionName: 'gcpSecretManager' in secret.source ? secret.source.gcpSecretManager : '',
                env: secret.variable,
              })),
            },
          }
        : {}),
      // Cloud Build pushes these after the steps and records their digests in `results.images`.
      images: [image],
      timeout: { seconds: c.build_timeout },
      ...(Object.keys(options).length > 0 ? { options } : {}),
      ...(c.logs_bucket ? { logsBucket: c.logs_bucket } : {}),
      ...(c.service_account ? { serviceAccount: serviceAccountName(c.service_account, project) } : {}),
      tags: ['zenbuild'],
    };
  }

  #logFollower(
    created: IBuild,
    buildId: string,
    image: string,
    run: RunContext,
    tail: LogTail,
  ): GcsLogFollower | undefined {
    const mode = this.config.logging;
    if (mode === 'CLOUD_LOGGING_ONLY' || mode === 'NONE') return undefined;
    const bucketUrl = created.logsBucket ?? this.config.logs_bucket;
    if (!bucketUrl || !buildId) return undefined;
    const { bucket, object } = gcsLocation(
      bucketUrl.startsWith('gs://') ? bucketUrl : `gs://${bucketUrl}`,
      `log-${buildId}.txt`,
    );
    return new GcsLogFollower(this.storage, bucket, object, image, run, tail);
  }

  /** The long-running operation's result, reading the log object while it runs. */
  async #wait(
    operation: BuildOperation,
    project: string,
    buildId: string,
    deadline: AbortSignal,
    logs: GcsLogFollower | undefined,
  ): Promise<IBuild> {
    let done = false;
    const result = operation.promise().then(
      ([build]) => build as IBuild,
      async (error: unknown) => {
        // However a build ends (FAILURE, INTERNAL_ERROR, TIMEOUT, CANCELLED, EXPIRED), the operation may
        // end with an error of any code, and its metadata is stale: the build itself says what happened.
        if (buildId) {
          try {
            // A regional build is known only under its full name: the global path answers 404.
            const [build] = await this.cloudbuild.getBuild(this.#buildRef(project, buildId));
            if (TERMINAL.has(statusName(build.status))) return build;
          } catch {
            // The operation's own error below says more than a failed look-up.
          }
        }
        throw gcpError(error, {
          action: 'wait for the Cloud Build build',
          permission: 'cloudbuild.builds.get',
          role: 'roles/cloudbuild.builds.viewer',
          resource: `build ${buildId}`,
        });
      },
    );
    const aborted = new Promise<never>((_, reject) => {
      if (deadline.aborted) reject(deadline.reason);
      deadline.addEventListener('abort', () => reject(deadline.reason), { once: true });
    });
    const pollLogs = async () => {
      while (!done && !deadline.aborted) {
        await logs?.read();
        await new Promise((r) => setTimeout(r, this.options.logPollMs ?? 2000));
      }
    };
    const poller = logs ? pollLogs() : Promise.resolve();
    try {
      return await Promise.race([result, aborted]);
    } finally {
      done = true;
      await poller;
      // The operation keeps polling in the background after an abort; its outcome no longer matters.
      result.catch(() => {});
    }
  }

  /**
   * How getBuild and cancelBuild find a build: a regional one only by its full resource name, alone (the
   * client takes the global path whenever project and id are given, and the global path answers 404).
   */
  #buildRef(project: string, buildId: string): { name: string } | { projectId: string; id: string } {
    return this.config.location
      ? { name: `projects/${project}/locations/${this.config.location}/builds/${buildId}` }
      : { projectId: project, id: buildId };
  }

  async #project(): Promise<string> {
    if (this.config.project) return this.config.project;
    try {
      return await this.cloudbuild.getProjectId();
    } catch (error) {
      throw gcpError(error, {
        action: 'find the Google Cloud project',
        permission: 'resourcemanager.projects.get',
        role: 'roles/viewer',
        resource: 'the credentials',
      });
    }
  }
}

/** The statuses a build ends in; each is reported the same way (step, status, detail, log tail, URL). */
const TERMINAL = new Set(['SUCCESS', 'FAILURE', 'INTERNAL_ERROR', 'TIMEOUT', 'CANCELLED', 'EXPIRED']);

/** Numeric (operation results) and string (getBuild) enums both occur; compare by name. */
export function statusName(status: IBuild['status']): string {
  if (typeof status === 'number') return Status[status] ?? `STATUS_${status}`;
  return status ?? 'STATUS_UNKNOWN';
}

/** Which step failed with what status, and the service's own detail. */
function failureSummary(build: IBuild, status: string): string {
  const steps = build.steps ?? [];
  const index = steps.findIndex(
    (s) =>
      s.status !== undefined && s.status !== null && !['SUCCESS', 'QUEUED'].includes(statusName(s.status)),
  );
  const step = index >= 0 ? steps[index] : undefined;
  const why = [
    step ? `step ${index} (${step.name}) ${statusName(step.status)}` : undefined,
    build.failureInfo?.detail ?? build.statusDetail ?? undefined,
  ]
    .filter(Boolean)
    .join(': ');
  return `ended ${status}${why ? `: ${why}` : ''}`;
}

/** The flavor's own stack rules, on top of core's (gcp registry and GCS store are checked there). */
export function gcpStackProblems(_config: GcpImageBuilderConfig, stack: Stack): StackProblem[] {
  const problems: StackProblem[] = [];
  if (stack.containerRegistry?.credentials) {
    problems.push({
      path: 'components.container_registry.credentials',
      severity: 'warning',
      message:
        "are not used by Cloud Build: it pushes with the build's service account, which needs Artifact Registry Writer on the repository.",
    });
  }
  return problems;
}
