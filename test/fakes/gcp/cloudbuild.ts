import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { FakeGcs } from './gcs.js';

const BUILD_TYPE = 'type.googleapis.com/google.devtools.cloudbuild.v1.Build';
const METADATA_TYPE = 'type.googleapis.com/google.devtools.cloudbuild.v1.BuildOperationMetadata';
/** The project number behind every fake project; the default logs bucket is named after it. */
const PROJECT_NUMBER = '000000000000';
export const DEFAULT_LOGS_BUCKET = `${PROJECT_NUMBER}.cloudbuild-logs.googleusercontent.com`;

interface Step {
  name: string;
  args?: string[];
  /** `KEY=value` entries for the step's environment. */
  env?: string[];
  /** Variables filled from `availableSecrets` (Secret Manager) for this step. */
  secretEnv?: string[];
  status?: string;
  timing?: { startTime: string; endTime?: string };
}

export interface FakeCloudBuildBuild {
  id: string;
  projectId: string;
  /** The region of a regional build (`projects/P/locations/L/builds`); absent for a global one. */
  location?: string;
  status: string;
  statusDetail?: string;
  source: { storageSource: { bucket: string; object: string } };
  steps: Step[];
  images: string[];
  results?: { images: { name: string; digest: string; pushTiming?: unknown }[]; buildStepImages: string[] };
  createTime: string;
  startTime?: string;
  finishTime?: string;
  timeout: string;
  logsBucket: string;
  logUrl: string;
  failureInfo?: { type: string; detail: string };
  availableSecrets?: { secretManager?: { versionName: string; env: string }[] };
  options?: Record<string, unknown>;
  serviceAccount?: string;
  tags?: string[];
}

export interface FakeCloudBuildOptions {
  gcs: FakeGcs;
  /** Projects whose Cloud Build API is enabled and usable. */
  projects: string[];
  /** Projects where the API is not enabled (the error users get before `gcloud services enable`). */
  disabledProjects?: string[];
  /** Existing private pools (`projects/P/locations/L/workerPools/N`). */
  workerPools?: string[];
  /** How a failed build ends its operation: with `error` (code 2) or with a Build `response`. */
  failureAs?: 'error' | 'response';
  buildEnv?: NodeJS.ProcessEnv;
  /** Secret Manager: the value of each version resource name (`projects/P/secrets/S/versions/V`). */
  secrets?: Record<string, string>;
  /** False: the build writes no log object (its logs go to Cloud Logging only, whatever it asked). */
  writeLogObjects?: boolean;
}

/**
 * Cloud Build's REST surface (createBuild, the long-running operation, getBuild, cancelBuild) as the
 * Node client's `fallback` transport calls it. A created build really runs: the tar.gz comes from the
 * fake GCS, each `gcr.io/cloud-builders/docker` step runs `docker` with its args in the unpacked
 * source (on the `cloudbuild` network, as on Cloud Build's workers), `images` are pushed and their
 * digests fill `results.images`, and the log is appended to `log-<id>.txt` in the logs bucket.
 */
export class FakeCloudBuild {
  readonly builds = new Map<string, FakeCloudBuildBuild>();
  readonly calls: { method: string; path: string; body?: unknown }[] = [];
  readonly #running = new Map<string, { child?: ChildProcess; cancel: boolean; done: Promise<void> }>();

  constructor(readonly options: FakeCloudBuildOptions) {
    options.gcs.createBucket(DEFAULT_LOGS_BUCKET);
  }

  async settled(): Promise<void> {
    await Promise.all([...this.#running.values()].map((r) => r.done));
  }

  /** Handles `/v1/...`; false if the path is not Cloud Build's. */
  handle(req: IncomingMessage, res: ServerResponse, body: Buffer): boolean {
    const url = new URL(req.url ?? '/', 'http://cloudbuild');
    const p = url.pathname;
    if (!p.startsWith('/v1/')) return false;
    const method = req.method ?? 'GET';
    const parsed = body.length > 0 ? JSON.parse(body.toString('utf8')) : undefined;
    this.calls.push({ method, path: p, body: parsed });

    let m = /^\/v1\/projects\/([^/]+)(?:\/locations\/([^/]+))?\/builds$/.exec(p);
    if (m && method === 'POST') {
      const project = m[1] as string;
      const denied = this.#projectProblem(project);
      if (denied) return error(res, denied.status, denied.code, denied.message, denied.details);
      return this.#create(res, project, m[2], parsed ?? {});
    }
    m = /^\/v1\/operations\/build\/([^/]+)\/([^/]+)$/.exec(p);
    if (m && method === 'GET') {
      const build = this.builds.get(Buffer.from(m[2] as string, 'base64url').toString('utf8'));
      if (!build) return error(res, 404, 'NOT_FOUND', 'Operation not found');
      return json(res, this.#operation(build));
    }
    m = /^\/v1\/projects\/([^/]+)(?:\/locations\/([^/]+))?\/builds\/([^/:]+)(:cancel)?$/.exec(p);
    if (m) {
      const build = this.builds.get(m[3] as string);
      // A regional build exists only under its region's path: the global path does not know it.
      if (!build || build.projectId !== m[1] || build.location !== m[2])
        return error(res, 404, 'NOT_FOUND', `Requested entity was not found.`);
      if (m[4] && method === 'POST') {
        const running = this.#running.get(build.id);
        if (running && !['SUCCESS', 'FAILURE', 'CANCELLED', 'TIMEOUT'].includes(build.status)) {
          running.cancel = true;
          if (running.child?.pid) killGroup(running.child.pid);
        }
        return json(res, build);
      }
      if (method === 'GET') return json(res, build);
    }
    return error(res, 404, 'NOT_FOUND', `The fake does not implement ${method} ${p}`);
  }

  #projectProblem(project: string) {
    if (this.options.disabledProjects?.includes(project)) {
      return {
        status: 403,
        code: 'PERMISSION_DENIED',
        message: `Cloud Build API has not been used in project ${project} before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/cloudbuild.googleapis.com/overview?project=${project} then retry.`,
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
            reason: 'SERVICE_DISABLED',
            domain: 'googleapis.com',
            metadata: { service: 'cloudbuild.googleapis.com', consumer: `projects/${project}` },
          },
        ],
      };
    }
    if (!this.options.projects.includes(project)) {
      return { status: 403, code: 'PERMISSION_DENIED', message: 'The caller does not have permission' };
    }
    return undefined;
  }

  #create(
    res: ServerResponse,
    project: string,
    location: string | undefined,
    spec: Record<string, unknown>,
  ): boolean {
    const source = (spec.source as { storageSource?: { bucket?: string; object?: string } } | undefined)
      ?.storageSource;
    if (!source?.bucket || !source.object) {
      return error(
        res,
        400,
        'INVALID_ARGUMENT',
        'invalid build: source.storageSource is required by the fake',
      );
    }
    const options = (spec.options as Record<string, unknown> | undefined) ?? {};
    const pool = (options.pool as { name?: string } | undefined)?.name;
    if (pool && !this.options.workerPools?.includes(pool)) {
      return error(
        res,
        400,
        'INVALID_ARGUMENT',
        `invalid value for 'build.options.pool.name': worker pool "${pool}" does not exist`,
      );
    }
    if (
      spec.serviceAccount &&
      !spec.logsBucket &&
      !['CLOUD_LOGGING_ONLY', 'NONE', 5, 4].includes(options.logging as string)
    ) {
      return error(
        res,
        400,
        'INVALID_ARGUMENT',
        'if "build.service_account" is specified, the build must either (a) specify "build.logs_bucket", (b) use the REGIONAL_USER_OWNED_BUCKET build.options.default_logs_bucket_behavior option, or (c) use either CLOUD_LOGGING_ONLY / NONE logging options',
      );
    }
    const id = randomUUID();
    // Cloud Build reads $VAR, ${VAR} and $$ in step args as substitutions, checked before the build
    // exists: an unknown key fails it in the default MUST_MATCH mode, and is empty with ALLOW_LOOSE.
    const loose = ['ALLOW_LOOSE', 1].includes(options.substitutionOption as string);
    const values: Record<string, string> = {
      PROJECT_ID: project,
      BUILD_ID: id,
      PROJECT_NUMBER,
      LOCATION: location ?? 'global',
      ...((spec.substitutions as Record<string, string> | undefined) ?? {}),
    };
    const steps: Step[] = [];
    for (const s of (spec.steps as Step[] | undefined) ?? []) {
      const args: string[] = [];
      for (const arg of s.args ?? []) {
        const result = substitute(arg, values, loose);
        if (typeof result !== 'string')
          return error(
            res,
            400,
            'INVALID_ARGUMENT',
            `invalid value for 'build.substitutions': ${result.error}`,
          );
        args.push(result);
      }
      // Build.steps[].secretEnv names variables that `availableSecrets` must define (Cloud Build's
      // API reference, "Build": "secretEnv ... must be specified in the build's Secret").
      const defined = new Set(
        (
          (spec.availableSecrets as { secretManager?: { env?: string }[] } | undefined)?.secretManager ?? []
        ).map((entry) => entry.env),
      );
      const missing = (s.secretEnv ?? []).find((name) => !defined.has(name));
      if (missing)
        return error(
          res,
          400,
          'INVALID_ARGUMENT',
          `invalid build: secretEnv "${missing}" is not defined in availableSecrets`,
        );
      steps.push({
        name: s.name,
        args,
        ...(s.env ? { env: s.env } : {}),
        ...(s.secretEnv ? { secretEnv: s.secretEnv } : {}),
      });
    }
    const logsBucket = String(spec.logsBucket ?? `gs://${DEFAULT_LOGS_BUCKET}`);
    const build: FakeCloudBuildBuild = {
      id,
      projectId: project,
      status: 'QUEUED',
      source: { storageSource: { bucket: source.bucket, object: source.object } },
      ...(location ? { location } : {}),
      steps,
      images: (spec.images as string[] | undefined) ?? [],
      createTime: new Date().toISOString(),
      timeout: typeof spec.timeout === 'string' ? spec.timeout : '600s',
      logsBucket,
      logUrl: `https://console.cloud.google.com/cloud-build/builds/${id}?project=${PROJECT_NUMBER}`,
      options,
      ...(spec.serviceAccount ? { serviceAccount: String(spec.serviceAccount) } : {}),
      ...(spec.tags ? { tags: spec.tags as string[] } : {}),
      ...(spec.availableSecrets
        ? { availableSecrets: spec.availableSecrets as FakeCloudBuildBuild['availableSecrets'] }
        : {}),
    };
    this.builds.set(id, build);
    const state = { cancel: false, done: Promise.resolve() } as {
      child?: ChildProcess;
      cancel: boolean;
      done: Promise<void>;
    };
    state.done = this.#run(build, state).catch((e: unknown) => {
      this.#log(build, `fake Cloud Build internal error: ${(e as Error).stack}`);
      this.#finish(build, 'INTERNAL_ERROR', (e as Error).message);
    });
    this.#running.set(id, state);
    return json(res, this.#operation(build));
  }

  #operation(build: FakeCloudBuildBuild) {
    const done = ['SUCCESS', 'FAILURE', 'INTERNAL_ERROR', 'TIMEOUT', 'CANCELLED', 'EXPIRED'].includes(
      build.status,
    );
    const operation: Record<string, unknown> = {
      name: `operations/build/${build.projectId}/${Buffer.from(build.id).toString('base64url')}`,
      metadata: { '@type': METADATA_TYPE, build },
      done,
    };
    if (done) {
      if (build.status !== 'SUCCESS' && this.options.failureAs !== 'response') {
        // The code differs with the way the build ended (google.rpc.Code); clients must not rely on it.
        operation.error = {
          code: OPERATION_ERROR_CODES[build.status] ?? 2,
          message: `Build ${build.status === 'FAILURE' ? 'failed' : build.status.toLowerCase()}; check build logs for details`,
        };
      } else {
        operation.response = { '@type': BUILD_TYPE, ...build };
      }
    }
    return operation;
  }

  async #run(build: FakeCloudBuildBuild, state: { child?: ChildProcess; cancel: boolean }): Promise<void> {
    const work = mkdtempSync(path.join(tmpdir(), 'fake-cloudbuild-'));
    const seconds = Number.parseInt(build.timeout, 10);
    const timer = setTimeout(() => {
      (state as { timedOut?: boolean }).timedOut = true;
      state.cancel = true;
      if (state.child?.pid) killGroup(state.child.pid);
    }, seconds * 1000);
    try {
      await new Promise((r) => setTimeout(r, 50));
      if (state.cancel) return this.#finish(build, 'CANCELLED');
      build.status = 'WORKING';
      build.startTime = new Date().toISOString();
      this.#log(build, `starting build "${build.id}"\n\nFETCHSOURCE`);
      const archive = this.options.gcs.object(
        build.source.storageSource.bucket,
        build.source.storageSource.object,
      );
      if (!archive) {
        this.#log(
          build,
          `ERROR: gs://${build.source.storageSource.bucket}/${build.source.storageSource.object}: object not found`,
        );
        return this.#finish(build, 'FAILURE', 'failed to fetch the source', {
          type: 'FETCH_SOURCE_FAILED',
          detail: 'object not found',
        });
      }
      const src = path.join(work, 'workspace');
      mkdirSync(src);
      writeFileSync(path.join(work, 'source.tgz'), archive.body);
      const untar = spawnSync('tar', ['-xzf', path.join(work, 'source.tgz'), '-C', src], {
        encoding: 'utf8',
      });
      if (untar.status !== 0) {
        this.#log(build, `ERROR: could not unpack the source: ${untar.stderr}`);
        return this.#finish(build, 'FAILURE', 'bad source archive', {
          type: 'FETCH_SOURCE_FAILED',
          detail: untar.stderr,
        });
      }
      this.#log(build, 'BUILD');
      ensureNetwork('cloudbuild');
      for (const [index, step] of build.steps.entries()) {
        step.status = 'WORKING';
        step.timing = { startTime: new Date().toISOString() };
        this.#log(build, `Starting Step #${index}`);
        if (!/(^|\/)cloud-builders\/docker(:|$)/.test(step.name)) {
          step.status = 'FAILURE';
          this.#log(build, `Step #${index}: the fake only runs docker builder steps, not ${step.name}`);
          return this.#finish(build, 'FAILURE', 'unsupported step', {
            type: 'USER_BUILD_STEP',
            detail: `Build step failure: build step ${index} "${step.name}" is not supported by the fake`,
          });
        }
        // The step's environment: its `env`, and its `secretEnv` read from Secret Manager.
        const stepEnv: Record<string, string> = {};
        for (const entry of step.env ?? []) {
          const equals = entry.indexOf('=');
          stepEnv[entry.slice(0, equals)] = entry.slice(equals + 1);
        }
        for (const name of step.secretEnv ?? []) {
          const version =
            build.availableSecrets?.secretManager?.find((s) => s.env === name)?.versionName ?? '';
          const value = this.options.secrets?.[version];
          if (value === undefined) {
            step.status = 'FAILURE';
            this.#log(build, `ERROR: failed to access secret version ${version}: NotFound`);
            return this.#finish(build, 'FAILURE', `failed to access secret version ${version}`, {
              type: 'USER_BUILD_STEP',
              detail: `failed to access secret version ${version}: NotFound`,
            });
          }
          stepEnv[name] = value;
        }
        // Each build runs on a fresh worker: a docker config of its own (BuildKit keys the copies of a
        // build's directories it keeps by the client's node id, which lives there).
        stepEnv.DOCKER_CONFIG = path.join(work, 'docker-config');
        const code = await this.#docker(build, step.args ?? [], src, `Step #${index}: `, state, stepEnv);
        step.timing.endTime = new Date().toISOString();
        if (state.cancel) {
          step.status = (state as { timedOut?: boolean }).timedOut ? 'TIMEOUT' : 'CANCELLED';
          return this.#finish(build, step.status);
        }
        if (code !== 0) {
          step.status = 'FAILURE';
          this.#log(
            build,
            `Finished Step #${index}\nERROR: build step ${index} "${step.name}" failed: step exited with non-zero status: ${code}`,
          );
          return this.#finish(
            build,
            'FAILURE',
            `Build step failure: build step ${index} "${step.name}" failed: step exited with non-zero status: ${code}`,
            {
              type: 'USER_BUILD_STEP',
              detail: `Build step failure: build step ${index} "${step.name}" failed: step exited with non-zero status: ${code}`,
            },
          );
        }
        step.status = 'SUCCESS';
        this.#log(build, `Finished Step #${index}`);
      }
      this.#log(build, 'PUSH');
      const images: { name: string; digest: string }[] = [];
      for (const image of build.images) {
        const code = await this.#docker(build, ['push', image], src, '', state);
        if (code !== 0 || state.cancel) {
          return this.#finish(build, state.cancel ? 'CANCELLED' : 'FAILURE', `failed to push ${image}`, {
            type: 'PUSH_FAILED',
            detail: `failed to push ${image}`,
          });
        }
        const repository = image.replace(/:[^/:]+$/, '');
        const inspect = spawnSync(
          'docker',
          ['inspect', '--format', '{{range .RepoDigests}}{{println .}}{{end}}', image],
          {
            encoding: 'utf8',
            env: this.#env(),
          },
        );
        const digest =
          inspect.stdout
            .split('\n')
            .find((l) => l.startsWith(`${repository}@`))
            ?.split('@')[1] ?? '';
        images.push({ name: image, digest });
      }
      build.results = { images, buildStepImages: build.steps.map(() => '') };
      this.#log(build, 'DONE');
      this.#finish(build, 'SUCCESS');
    } finally {
      clearTimeout(timer);
      rmSync(work, { recursive: true, force: true });
    }
  }

  #env(): NodeJS.ProcessEnv {
    return this.options.buildEnv ?? { PATH: process.env.PATH };
  }

  async #docker(
    build: FakeCloudBuildBuild,
    args: string[],
    cwd: string,
    prefix: string,
    state: { child?: ChildProcess },
    stepEnv: Record<string, string> = {},
  ): Promise<number> {
    const child = spawn('docker', args, {
      cwd,
      detached: true,
      env: { ...this.#env(), ...stepEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    state.child = child;
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => this.#log(build, `${prefix}${line}`));
    }
    const code = await new Promise<number>((resolve) => {
      child.on('error', () => resolve(127));
      child.on('close', (c, signal) => resolve(c ?? (signal ? 143 : 1)));
    });
    state.child = undefined;
    return code;
  }

  #finish(
    build: FakeCloudBuildBuild,
    status: string,
    detail?: string,
    failureInfo?: { type: string; detail: string },
  ): void {
    build.status = status;
    build.finishTime = new Date().toISOString();
    if (detail) build.statusDetail = detail;
    if (failureInfo) build.failureInfo = failureInfo;
    if (status !== 'SUCCESS') this.#log(build, `ERROR: build ${status}`);
  }

  #log(build: FakeCloudBuildBuild, text: string): void {
    if (this.options.writeLogObjects === false) return;
    const bucket = build.logsBucket.replace(/^gs:\/\//, '').split('/')[0] as string;
    this.options.gcs.append(bucket, `log-${build.id}.txt`, `${text}\n`);
  }
}

const OPERATION_ERROR_CODES: Record<string, number> = {
  FAILURE: 2,
  INTERNAL_ERROR: 13,
  TIMEOUT: 4,
  CANCELLED: 1,
  EXPIRED: 4,
};

/** Cloud Build's default substitutions (always, then for triggered builds; empty without a trigger). */
const BUILT_IN_SUBSTITUTIONS = new Set([
  'PROJECT_ID',
  'BUILD_ID',
  'PROJECT_NUMBER',
  'LOCATION',
  'TRIGGER_NAME',
  'COMMIT_SHA',
  'REVISION_ID',
  'SHORT_SHA',
  'REPO_NAME',
  'REPO_FULL_NAME',
  'BRANCH_NAME',
  'TAG_NAME',
  'REF_NAME',
  'TRIGGER_BUILD_CONFIG_PATH',
  'SERVICE_ACCOUNT_EMAIL',
  'SERVICE_ACCOUNT',
]);

/** One template, as Cloud Build substitutes it: `$$` is `$`, `$KEY` and `${KEY}` are looked up. */
function substitute(
  text: string,
  values: Record<string, string>,
  loose: boolean,
): string | { error: string } {
  let failure: string | undefined;
  const out = text.replace(/\$(?:(\$)|\{([^}]*)\}|([A-Za-z0-9_]+))/g, (_m, dollar, braced, bare) => {
    if (dollar) return '$';
    const key = (braced ?? bare) as string;
    if (key in values) return values[key] as string;
    if (BUILT_IN_SUBSTITUTIONS.has(key) || loose) return '';
    failure ??= key.startsWith('_')
      ? `key "${key}" in the template is not matched in the substitution list`
      : `key in the template "${key}" is not a valid built-in substitution`;
    return '';
  });
  return failure ? { error: failure } : out;
}

function ensureNetwork(name: string): void {
  if (spawnSync('docker', ['network', 'inspect', name], { stdio: 'ignore' }).status === 0) return;
  spawnSync('docker', ['network', 'create', name], { stdio: 'ignore' });
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    // already gone
  }
}

function json(res: ServerResponse, value: unknown): true {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
  return true;
}

function error(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  details?: unknown[],
): true {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({ error: { code: status, message, status: code, ...(details ? { details } : {}) } }),
  );
  return true;
}
