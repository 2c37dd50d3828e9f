import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parse } from 'yaml';
import type { FakeS3 } from './s3.js';

/** A CodeBuild error as the JSON 1.1 protocol carries it (HTTP 400, `__type`, `message`). */
export class ServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export interface LogEvent {
  timestamp: number;
  message: string;
  ingestionTime: number;
}

interface Phase {
  phaseType: string;
  phaseStatus?: string;
  startTime: number;
  endTime?: number;
  durationInSeconds?: number;
  contexts?: { statusCode: string; message: string }[];
}

export interface FakeBuild {
  id: string;
  arn: string;
  projectName: string;
  buildNumber: number;
  startTime: number;
  endTime?: number;
  currentPhase: string;
  buildStatus: string;
  buildComplete: boolean;
  phases: Phase[];
  source: { type: string; location: string; buildspec: string };
  environment: Record<string, unknown>;
  logs: { groupName: string; streamName: string; deepLink: string };
  exportedEnvironmentVariables: { name: string; value: string }[];
  timeoutInMinutes: number;
  queuedTimeoutInMinutes: number;
  /** What StartBuild received, for assertions. */
  request: Record<string, unknown>;
}

export interface FakeCodeBuildOptions {
  s3: FakeS3;
  region: string;
  projects: string[];
  /** Secrets Manager and Parameter Store values the build can reference. */
  secrets?: Record<string, string>;
  parameters?: Record<string, string>;
  /** The environment of the "build image": PATH, DOCKER_HOST, DOCKER_BUILDKIT... */
  buildEnv?: NodeJS.ProcessEnv;
  /**
   * GetLogEvents answers this many empty pages, each with a new token, before each page of events.
   * The API reference allows it: "Partially full or empty pages don't necessarily mean that pagination
   * is finished. As long as the nextForwardToken returned is NOT equal to the nextToken that you passed
   * into the API call, there might be more log events available."
   */
  emptyLogPages?: number;
}

const ACCOUNT = '000000000000';
const SEQUENCE = [
  'SUBMITTED',
  'QUEUED',
  'PROVISIONING',
  'DOWNLOAD_SOURCE',
  'INSTALL',
  'PRE_BUILD',
  'BUILD',
  'POST_BUILD',
  'UPLOAD_ARTIFACTS',
  'FINALIZING',
];
const COMMAND_PHASES: Record<string, string> = {
  INSTALL: 'install',
  PRE_BUILD: 'pre_build',
  BUILD: 'build',
  POST_BUILD: 'post_build',
};

/**
 * CodeBuild (StartBuild, BatchGetBuilds, StopBuild, BatchGetProjects) and the CloudWatch Logs stream of
 * each build (GetLogEvents). A started build really runs: the source zip comes from the fake S3, every
 * phase's commands run in order in `sh` with the local docker, the output becomes the log stream,
 * `exported-variables` are read from the shell's state at the end, phases and status follow CodeBuild's
 * rules (a failing install or pre_build skips to the end; build failure still runs post_build unless
 * `on-failure: ABORT`).
 */
export class FakeCodeBuild {
  readonly builds = new Map<string, FakeBuild>();
  readonly logStreams = new Map<string, LogEvent[]>();
  readonly calls: { target: string; body: Record<string, unknown> }[] = [];
  readonly #tokens = new Map<string, { at: number; params: string; id: string }>();
  readonly #running = new Map<string, { child?: ChildProcess; stop: boolean; done: Promise<void> }>();
  #buildNumber = 0;

  constructor(readonly options: FakeCodeBuildOptions) {}

  handle(target: string, body: Record<string, unknown>): unknown {
    this.calls.push({ target, body });
    switch (target) {
      case 'CodeBuild_20161006.StartBuild':
        return { build: this.#wire(this.#start(body)) };
      case 'CodeBuild_20161006.BatchGetBuilds': {
        const ids = (body.ids as string[]) ?? [];
        const found = ids.map((id) => this.builds.get(id)).filter((b): b is FakeBuild => Boolean(b));
        return {
          builds: found.map((b) => this.#wire(b)),
          buildsNotFound: ids.filter((id) => !this.builds.has(id)),
        };
      }
      case 'CodeBuild_20161006.StopBuild': {
        const build = this.builds.get(String(body.id));
        if (!build) throw new ServiceError('ResourceNotFoundException', `Build ${body.id} does not exist`);
        const running = this.#running.get(build.id);
        if (running) {
          running.stop = true;
          if (running.child?.pid) killGroup(running.child.pid);
        }
        return { build: this.#wire(build) };
      }
      case 'CodeBuild_20161006.BatchGetProjects': {
        const names = (body.names as string[]) ?? [];
        const known = names.filter((n) => this.options.projects.includes(n));
        return {
          projects: known.map((name) => ({ name, arn: this.#projectArn(name) })),
          projectsNotFound: names.filter((n) => !known.includes(n)),
        };
      }
      case 'Logs_20140328.GetLogEvents':
        return this.#logEvents(body);
      default:
        throw new ServiceError('UnknownOperationException', `The fake does not implement ${target}`);
    }
  }

  /** Resolves when every started build has finished. */
  async settled(): Promise<void> {
    await Promise.all([...this.#running.values()].map((r) => r.done));
  }

  #projectArn(name: string) {
    return `arn:aws:codebuild:${this.options.region}:${ACCOUNT}:project/${name}`;
  }

  #start(body: Record<string, unknown>): FakeBuild {
    const project = String(body.projectName ?? '');
    if (!this.options.projects.includes(project)) {
      throw new ServiceError(
        'ResourceNotFoundException',
        `Project cannot be found: ${this.#projectArn(project)}`,
      );
    }
    const token = body.idempotencyToken as string | undefined;
    const { idempotencyToken: _t, ...params } = body;
    const paramsKey = JSON.stringify(params);
    if (token) {
      const seen = this.#tokens.get(token);
      if (seen && Date.now() - seen.at < 5 * 60_000) {
        if (seen.params !== paramsKey) {
          throw new ServiceError(
            'InvalidInputException',
            'Idempotent parameter mismatch: the token was used with other parameters',
          );
        }
        return this.builds.get(seen.id) as FakeBuild;
      }
    }
    if (body.sourceTypeOverride !== 'S3' || typeof body.sourceLocationOverride !== 'string') {
      throw new ServiceError(
        'InvalidInputException',
        'The fake only runs S3 sources (sourceTypeOverride: S3)',
      );
    }
    if (typeof body.buildspecOverride !== 'string') {
      throw new ServiceError('InvalidInputException', 'The fake needs a buildspecOverride');
    }
    const uuid = randomUUID();
    const id = `${project}:${uuid}`;
    const now = Date.now() / 1000;
    const group = `/aws/codebuild/${project}`;
    const build: FakeBuild = {
      id,
      arn: `arn:aws:codebuild:${this.options.region}:${ACCOUNT}:build/${id}`,
      projectName: project,
      buildNumber: ++this.#buildNumber,
      startTime: now,
      currentPhase: 'SUBMITTED',
      buildStatus: 'IN_PROGRESS',
      buildComplete: false,
      phases: [
        {
          phaseType: 'SUBMITTED',
          phaseStatus: 'SUCCEEDED',
          startTime: now,
          endTime: now,
          durationInSeconds: 0,
        },
      ],
      source: { type: 'S3', location: body.sourceLocationOverride, buildspec: body.buildspecOverride },
      environment: {
        type: body.environmentTypeOverride ?? 'LINUX_CONTAINER',
        image: body.imageOverride,
        computeType: body.computeTypeOverride,
        privilegedMode: body.privilegedModeOverride,
        environmentVariables: body.environmentVariablesOverride ?? [],
      },
      logs: {
        groupName: group,
        streamName: uuid,
        deepLink: `https://console.aws.amazon.com/cloudwatch/home?region=${this.options.region}#logEvent:group=${group};stream=${uuid}`,
      },
      exportedEnvironmentVariables: [],
      timeoutInMinutes: Number(body.timeoutInMinutesOverride ?? 60),
      queuedTimeoutInMinutes: Number(body.queuedTimeoutInMinutesOverride ?? 480),
      request: body,
    };
    this.builds.set(id, build);
    this.logStreams.set(`${group}/${uuid}`, []);
    if (token) this.#tokens.set(token, { at: Date.now(), params: paramsKey, id });
    const state = { stop: false, done: Promise.resolve() } as {
      child?: ChildProcess;
      stop: boolean;
      done: Promise<void>;
    };
    state.done = this.#run(build, state).catch((error: unknown) => {
      this.#log(build, `[Container] fake CodeBuild internal error: ${(error as Error).stack}`);
      this.#finish(build, 'FAULT');
    });
    this.#running.set(id, state);
    return build;
  }

  async #run(build: FakeBuild, state: { child?: ChildProcess; stop: boolean }): Promise<void> {
    let spec: {
      env?: Record<string, unknown>;
      phases?: Record<string, { commands?: string[]; 'on-failure'?: string }>;
    } = {};
    const work = mkdtempSync(path.join(tmpdir(), 'fake-codebuild-'));
    const src = path.join(work, 'src');
    const stateFile = path.join(work, 'env.sh');
    mkdirSync(src);
    // Let StartBuild's reply go out before the first phase changes.
    await new Promise((r) => setTimeout(r, 50));
    let failed: string | undefined;
    let skipCommands = false;
    try {
      for (const phaseType of SEQUENCE.slice(1)) {
        if (state.stop) return this.#stopped(build);
        // After a failure that ends the commands, their remaining phases are not entered at all.
        if (COMMAND_PHASES[phaseType] && skipCommands) continue;
        const phase = this.#enter(build, phaseType);
        let outcome: { ok: boolean; message?: string; code?: string } = { ok: true };
        if (phaseType === 'PROVISIONING') {
          spec = parse(build.source.buildspec);
          if (spec === null || typeof spec !== 'object') throw new Error('buildspec is not a mapping');
          outcome = this.#provision(build, spec, stateFile, work);
        } else if (phaseType === 'DOWNLOAD_SOURCE') {
          outcome = await this.#download(build, src, work);
        } else if (COMMAND_PHASES[phaseType]) {
          const section = spec?.phases?.[COMMAND_PHASES[phaseType] as string];
          for (const command of section?.commands ?? []) {
            if (state.stop) break;
            outcome = await this.#command(build, command, src, stateFile, state);
            if (!outcome.ok) break;
          }
          if (state.stop) return this.#stopped(build);
          if (!outcome.ok) {
            failed = phaseType;
            const abort = section?.['on-failure'] === 'ABORT';
            // CodeBuild: install/pre_build failures skip to the end; build failures still run post_build.
            if (abort || phaseType === 'INSTALL' || phaseType === 'PRE_BUILD' || phaseType === 'POST_BUILD') {
              skipCommands = true;
            }
          }
        }
        this.#leave(build, phase, outcome);
        if (!outcome.ok && (phaseType === 'PROVISIONING' || phaseType === 'DOWNLOAD_SOURCE')) {
          failed = phaseType;
          skipCommands = true;
        }
      }
      build.exportedEnvironmentVariables = this.#exported(spec, stateFile);
      this.#finish(build, failed ? 'FAILED' : 'SUCCEEDED');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  /** Resolves the build's variables: buildspec `env.variables`, then the overrides (secrets resolved here). */
  #provision(
    build: FakeBuild,
    spec: { env?: Record<string, unknown> },
    stateFile: string,
    work: string,
  ): { ok: boolean; message?: string; code?: string } {
    const vars: Record<string, string> = {
      CODEBUILD_BUILD_ID: build.id,
      CODEBUILD_BUILD_ARN: build.arn,
      CODEBUILD_SRC_DIR: path.join(work, 'src'),
      AWS_REGION: this.options.region,
      AWS_DEFAULT_REGION: this.options.region,
      // Each build is a fresh machine: its own docker login state.
      DOCKER_CONFIG: path.join(work, 'docker-config'),
    };
    for (const [name, value] of Object.entries((spec.env?.variables as Record<string, unknown>) ?? {})) {
      vars[name] = String(value);
    }
    const overrides =
      (build.environment.environmentVariables as { name: string; value: string; type?: string }[]) ?? [];
    for (const variable of overrides) {
      const type = variable.type ?? 'PLAINTEXT';
      if (type === 'PLAINTEXT') vars[variable.name] = variable.value;
      else {
        const store = type === 'SECRETS_MANAGER' ? this.options.secrets : this.options.parameters;
        const value = store?.[variable.value];
        if (value === undefined) {
          const message =
            type === 'SECRETS_MANAGER'
              ? `Secrets Manager can't find the specified secret. (${variable.value})`
              : `Parameter Store can't find the parameter ${variable.value}`;
          this.#log(
            build,
            `[Container] ${stamp()} Phase context status code: CLIENT_ERROR Message: ${message}`,
          );
          return { ok: false, code: 'CLIENT_ERROR', message };
        }
        vars[variable.name] = value;
      }
    }
    writeFileSync(
      stateFile,
      Object.entries(vars)
        .map(([k, v]) => `export ${k}=${shellQuote(v)}\n`)
        .join(''),
    );
    return { ok: true };
  }

  async #download(
    build: FakeBuild,
    src: string,
    work: string,
  ): Promise<{ ok: boolean; message?: string; code?: string }> {
    const [bucket = '', ...rest] = build.source.location.split('/');
    const object = this.options.s3.object(bucket, rest.join('/'));
    if (!object) {
      const message = `CLIENT_ERROR: no matching artifact paths found for source ${build.source.location}`;
      this.#log(build, `[Container] ${stamp()} ${message}`);
      return { ok: false, code: 'CLIENT_ERROR', message };
    }
    const zip = path.join(work, 'source.zip');
    writeFileSync(zip, object.body);
    const result = await run('unzip', ['-q', zip, '-d', src]);
    if (result.code !== 0)
      return { ok: false, code: 'CLIENT_ERROR', message: `unzip failed: ${result.output}` };
    return { ok: true };
  }

  async #command(
    build: FakeBuild,
    command: string,
    cwd: string,
    stateFile: string,
    state: { child?: ChildProcess },
  ): Promise<{ ok: boolean; message?: string; code?: string }> {
    this.#log(build, `[Container] ${stamp()} Running command ${command}`);
    // One `sh` per command that starts from, and saves, the shell's exported state: variables a
    // command exports are there for the next one, as in CodeBuild's single shell.
    const script = `. "$ZB_STATE"\n${command}\n__zb_rc=$?\nexport -p > "$ZB_STATE.next" && mv "$ZB_STATE.next" "$ZB_STATE"\nexit $__zb_rc\n`;
    const child = spawn('sh', ['-c', script], {
      cwd,
      detached: true,
      env: { ...(this.options.buildEnv ?? { PATH: process.env.PATH }), ZB_STATE: stateFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    state.child = child;
    const lines = (stream: NodeJS.ReadableStream) =>
      createInterface({ input: stream }).on('line', (line) => this.#log(build, line));
    lines(child.stdout as NodeJS.ReadableStream);
    lines(child.stderr as NodeJS.ReadableStream);
    const code = await new Promise<number>((resolve) =>
      child.on('close', (c, signal) => resolve(c ?? (signal ? 143 : 1))),
    );
    state.child = undefined;
    if (code === 0) return { ok: true };
    const message = `Error while executing command: ${command}. Reason: exit status ${code}`;
    this.#log(
      build,
      `[Container] ${stamp()} Command did not exit successfully ${command} exit status ${code}`,
    );
    return { ok: false, code: 'COMMAND_EXECUTION_ERROR', message };
  }

  #exported(spec: { env?: Record<string, unknown> } | undefined, stateFile: string) {
    const names = (spec?.env?.['exported-variables'] as string[] | undefined) ?? [];
    let text = '';
    try {
      text = readFileSync(stateFile, 'utf8');
    } catch {
      return [];
    }
    const values = parseExports(text);
    return names.map((name) => ({ name, value: values[name] ?? '' }));
  }

  #enter(build: FakeBuild, phaseType: string): Phase {
    const phase: Phase = { phaseType, startTime: Date.now() / 1000 };
    build.phases.push(phase);
    build.currentPhase = phaseType;
    this.#log(build, `[Container] ${stamp()} Entering phase ${phaseType}`);
    return phase;
  }

  #leave(build: FakeBuild, phase: Phase, outcome: { ok: boolean; message?: string; code?: string }): void {
    phase.endTime = Date.now() / 1000;
    phase.durationInSeconds = Math.round(phase.endTime - phase.startTime);
    phase.phaseStatus = outcome.ok
      ? 'SUCCEEDED'
      : outcome.code === 'CLIENT_ERROR'
        ? 'CLIENT_ERROR'
        : 'FAILED';
    if (!outcome.ok)
      phase.contexts = [{ statusCode: outcome.code ?? 'ERROR', message: outcome.message ?? '' }];
    this.#log(build, `[Container] ${stamp()} Phase complete: ${phase.phaseType} State: ${phase.phaseStatus}`);
    if (!outcome.ok && outcome.code !== 'CLIENT_ERROR') {
      this.#log(
        build,
        `[Container] ${stamp()} Phase context status code: ${outcome.code ?? 'ERROR'} Message: ${outcome.message ?? ''}`,
      );
    }
  }

  #stopped(build: FakeBuild): void {
    const current = build.phases.at(-1);
    if (current && !current.phaseStatus) {
      current.phaseStatus = 'STOPPED';
      current.endTime = Date.now() / 1000;
    }
    this.#finish(build, 'STOPPED');
  }

  #finish(build: FakeBuild, status: string): void {
    build.buildStatus = status;
    build.currentPhase = 'COMPLETED';
    build.buildComplete = true;
    build.endTime = Date.now() / 1000;
    build.phases.push({ phaseType: 'COMPLETED', startTime: build.endTime });
  }

  #log(build: FakeBuild, message: string): void {
    const now = Date.now();
    this.logStreams.get(`${build.logs.groupName}/${build.logs.streamName}`)?.push({
      timestamp: now,
      message: `${message}\n`,
      ingestionTime: now,
    });
  }

  #logEvents(body: Record<string, unknown>) {
    const events = this.logStreams.get(`${body.logGroupName}/${body.logStreamName}`);
    if (!events)
      throw new ServiceError('ResourceNotFoundException', 'The specified log stream does not exist.');
    // Tokens are `f/<next event>/<empty pages given before it>`.
    const token = body.nextToken as string | undefined;
    const [fromText = '0', skippedText = '0'] = token ? token.slice(2).split('/') : [];
    const from = Number(fromText);
    const skipped = Number(skippedText);
    const forward = (next: number, empties: number) => `f/${String(next).padStart(20, '0')}/${empties}`;
    if (from < events.length && skipped < (this.options.emptyLogPages ?? 0)) {
      return { events: [], nextForwardToken: forward(from, skipped + 1), nextBackwardToken: `b/${from}` };
    }
    const limit = Math.min(Number(body.limit ?? 10_000), 10_000);
    const page = events.slice(from, from + limit);
    const next = from + page.length;
    return {
      events: page,
      // Nothing more: the token given is returned unchanged.
      nextForwardToken: page.length === 0 && token ? token : forward(next, 0),
      nextBackwardToken: `b/${from}`,
    };
  }

  /** The build as BatchGetBuilds returns it. */
  #wire(build: FakeBuild) {
    const { request: _request, ...wire } = build;
    return wire;
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    // already gone
  }
}

const stamp = () => new Date().toISOString().replace('T', ' ').replace('Z', '');

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Values from `export -p` (dash: `export NAME='value'`). */
function parseExports(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const match of text.matchAll(/^export ([A-Za-z_][A-Za-z0-9_]*)='((?:[^']|'\\'')*)'$/gm)) {
    out[match[1] as string] = (match[2] as string).replace(/'\\''/g, "'");
  }
  return out;
}

function run(command: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
    child.on('error', (error) => resolve({ code: 1, output: error.message }));
  });
}
