import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  type Availability,
  type BuildOptions,
  type BuildRequest,
  buildArgsThroughEnv,
  buildOptionYamlName,
  type ContainerEngine,
  type ContainerRegistry,
  checkSecretSources,
  forwardOutputLines,
  hasBuildSecrets,
  imageTarget,
  invalidInput,
  LogTail,
  lastLines,
  lazyImport,
  makePrivateTempDir,
  notAvailable,
  pulledRegistryHosts,
  type RunContext,
  type RunMountsRequest,
  refusedByRegistry,
  registryHost,
  removePrivateTempDir,
  secretFlags,
  superviseEngineProcess,
  ZenbuildError,
} from '@zenbuild/core/backend';
import {
  type ApiBuilder,
  builderForBuild,
  describeBuilder,
  legacy,
  registriesBuildkitMistrusts,
} from './api-builder.js';
import { writeCliConfig } from './cli-config-dir.js';
import type { DockerCliEngineOptions } from './config.js';
import { ContextUpload, sentProgress } from './context-upload.js';
import { type DaemonRegistryConfig, daemonTreatsAsInsecure } from './insecure-registries.js';
import { toDockerCliFlags } from './options.js';

// execa is loaded when the CLI mode runs: API-mode builds and reuse checks never start a subprocess.
const loadExeca = async () => (await loadExecaModule()).execa;
const loadExecaModule = lazyImport(() => import('execa'));

/**
 * ZenML's `use_subprocess_call`: the same engine, driving the `docker` binary instead of the Engine API,
 * so the user's docker CLI setup (contexts, credential helpers) applies as it is. The context is core's
 * archive on stdin; credentials from the stack go through a throwaway config directory.
 */
export class DockerCliEngine implements ContainerEngine {
  readonly name = 'docker';
  readonly #env: NodeJS.ProcessEnv;
  readonly #binary: string;
  #registryConfig: Promise<DaemonRegistryConfig | undefined> | undefined;
  /** The builder the last check found, so that options it cannot honour are refused before a build. */
  #builderSeen: ApiBuilder | undefined;

  constructor(options: DockerCliEngineOptions = {}) {
    // The CLI's own choice of builder stands (ZenML's use_subprocess_call is there to get it): BuildKit
    // through buildx where installed, or the built-in client of Docker 20.10 and later with
    // DOCKER_BUILDKIT=1; DOCKER_BUILDKIT=0, or a newer CLI without buildx, the legacy builder. Every
    // docker command gets exactly this environment (execa with `extendEnv: false`), not process.env
    // with it on top: a caller's environment without DOCKER_HOST means the default socket.
    this.#env = { ...(options.env ?? process.env) };
    this.#binary = options.binary ?? 'docker';
  }

  validateOptions(options: BuildOptions): void {
    toDockerCliFlags(options);
    this.#refuseSecretsWithoutBuildKit(options, this.#builderSeen);
    checkSecretSources(options, this.#env);
  }

  /** Build secrets need BuildKit: with the legacy builder they are an error before anything is built. */
  #refuseSecretsWithoutBuildKit(options: BuildOptions, builder: ApiBuilder | undefined): void {
    if (!hasBuildSecrets(options) || !builder || builder.buildkit) return;
    throw invalidInput(
      `The docker CLI here builds with ${describeBuilder(builder)}, which cannot mount the build option \`${buildOptionYamlName('secrets')}\`; install buildx or set DOCKER_BUILDKIT=1 (Docker 20.10 and later), or build with podman.`,
      { path: buildOptionYamlName('secrets') },
    );
  }

  /**
   * Why this build cannot run on the CLI's BuildKit (api-builder.ts: Docker's BuildKit ignores
   * `shm_size` and the daemon's registry trust), so it runs with DOCKER_BUILDKIT=0; undefined where it can.
   * A build whose secrets need BuildKit is refused instead.
   */
  async #legacyReason(
    request: RunMountsRequest,
    builder: ApiBuilder | undefined,
  ): Promise<string | undefined> {
    if (!builder?.buildkit) return undefined;
    const mistrusted = await registriesBuildkitMistrusts(pulledRegistryHosts(request), (host) =>
      this.insecureRegistry(host),
    );
    const chosen = builderForBuild(builder, request.options, mistrusted);
    return chosen.buildkit ? undefined : chosen.why;
  }

  async takesRunMounts(request: RunMountsRequest): Promise<boolean> {
    const builder = this.#builderSeen ?? (await this.builder().catch(() => undefined));
    if (!builder?.buildkit) return false;
    try {
      return (await this.#legacyReason(request, builder)) === undefined;
    } catch {
      return false; // refused when it builds
    }
  }

  async check(): Promise<Availability> {
    const execa = await loadExeca();
    // Which builder runs is asked beside the daemon's version, not after it: check() runs before every
    // build, and `docker buildx version` is a process of its own.
    const builder = this.builder();
    const result = await execa(this.#binary, ['version', '--format', '{{.Server.Version}}'], {
      env: this.#env,
      extendEnv: false,
      reject: false,
      timeout: 15_000,
    });
    if (result.failed) {
      await builder.catch(() => undefined);
      const reason =
        (result as { code?: string }).code === 'ENOENT'
          ? `\`${this.#binary}\` is not on PATH`
          : lastLines(result.stderr);
      return {
        available: false,
        reason: `the docker CLI does not reach a daemon (${reason})`,
        hint: 'Start dockerd, or set DOCKER_HOST.',
      };
    }
    return {
      available: true,
      reason: `the docker CLI reaches Docker ${result.stdout.trim()} (subprocess mode; ${describeBuilder(await builder)})`,
    };
  }

  /** Which builder `docker build` runs, as the CLI decides it from DOCKER_BUILDKIT and buildx. */
  async builder(): Promise<ApiBuilder> {
    this.#builderSeen = await this.#whichBuilder();
    return this.#builderSeen;
  }

  async #whichBuilder(): Promise<ApiBuilder> {
    const setting = this.#env.DOCKER_BUILDKIT;
    if (setting === '0' || setting === 'false') return legacy('DOCKER_BUILDKIT=0');
    if (setting === '1' || setting === 'true') return { buildkit: true, why: 'DOCKER_BUILDKIT=1' };
    const execa = await loadExeca();
    const buildx = await execa(this.#binary, ['buildx', 'version'], {
      env: this.#env,
      extendEnv: false,
      reject: false,
      timeout: 15_000,
    });
    return buildx.failed
      ? legacy('no buildx, and DOCKER_BUILDKIT is not set')
      : { buildkit: true, why: 'buildx is installed' };
  }

  async build(request: BuildRequest, run: RunContext): Promise<{ imageId: string }> {
    const execa = await loadExeca();
    const flags = toDockerCliFlags(request.options);
    const builder = this.#builderSeen ?? (await this.builder());
    this.#refuseSecretsWithoutBuildKit(request.options, builder);
    const legacyFor = await this.#legacyReason(request, builder);
    const dir = await makePrivateTempDir('docker-cli');
    const lines = new LogTail();
    run.emit({
      type: 'phase',
      image: request.imageName,
      phase: 'build',
      detail: legacyFor ? `docker CLI, legacy builder: ${legacyFor}` : 'docker CLI',
    });
    try {
      const config = await this.#configDir(dir, request.registry);
      // Secrets from variables become files in the private dir, removed with it: never on a command line.
      const secrets = await secretFlags(request.options, this.#env, dir);
      const subprocess = execa(
        this.#binary,
        [
          ...config,
          'build',
          ...flags,
          ...secrets,
          '--iidfile',
          path.join(dir, 'iid'),
          '-f',
          request.dockerfile,
          '-t',
          request.imageName,
          '-',
        ],
        {
          env: {
            ...this.#env,
            ...buildArgsThroughEnv(request.options).env,
            ...(legacyFor ? { DOCKER_BUILDKIT: '0' } : {}),
          },
          extendEnv: false,
          stdin: 'pipe',
          all: true,
          reject: false,
          detached: true,
        },
      );
      // The CLI ignores SIGTERM while it waits for the context on stdin; don't wait long to kill it.
      superviseEngineProcess(subprocess, run.signal, 1_000);
      // A context whose stream fails (a file changed after planning) stops the build with the archive's
      // reason, not the daemon's "unexpected EOF"; any other failed build says why itself.
      // Piped, the upload reuses its file memory once stdin has written it, as for the daemon.
      const archive = new ContextUpload(request.context, sentProgress(request.imageName, run));
      let archiveError: unknown;
      archive.once('error', (error) => {
        archiveError = error;
        if (error instanceof ZenbuildError) subprocess.kill();
      });
      // A CLI that exits early (a bad flag) closes stdin; its own output says why.
      subprocess.stdin.on('error', () => {});
      archive.pipe(subprocess.stdin);
      await forwardOutputLines(subprocess.iterable({ from: 'all' }), request.imageName, run, lines);
      const result = await subprocess;
      if (archiveError instanceof ZenbuildError) throw archiveError;
      if (run.signal.aborted)
        throw new ZenbuildError('CANCELLED', `The build of ${request.imageName} was cancelled.`, {
          backend: 'docker',
        });
      if (result.failed) {
        throw new ZenbuildError(
          'BUILD_FAILED',
          `Building ${request.imageName} with the docker CLI failed: ${lastLines(lines.text)}`,
          {
            backend: 'docker',
            details: { command: 'docker build', exitCode: result.exitCode, stderrTail: lines.text },
          },
        );
      }
      return { imageId: (await readFile(path.join(dir, 'iid'), 'utf8')).trim() };
    } finally {
      await removePrivateTempDir(dir);
    }
  }

  async tag(source: string, target: string): Promise<void> {
    const execa = await loadExeca();
    const result = await execa(this.#binary, ['tag', source, target], {
      env: this.#env,
      extendEnv: false,
      reject: false,
    });
    if (result.failed)
      throw notAvailable(`docker tag ${source} ${target} failed: ${lastLines(result.stderr)}`, {
        backend: 'docker',
      });
  }

  async push(image: string, registry: ContainerRegistry | undefined, run: RunContext): Promise<string> {
    const execa = await loadExeca();
    const dir = await makePrivateTempDir('docker-cli');
    const lines = new LogTail();
    run.emit({ type: 'phase', image, phase: 'push' });
    try {
      const config = await this.#configDir(dir, registry);
      const subprocess = execa(this.#binary, [...config, 'push', image], {
        env: this.#env,
        extendEnv: false,
        all: true,
        reject: false,
        detached: true,
      });
      superviseEngineProcess(subprocess, run.signal);
      await forwardOutputLines(subprocess.iterable({ from: 'all' }), image, run, lines);
      const result = await subprocess;
      const output = lines.text;
      if (result.failed) {
        const refused = refusedByRegistry(output);
        throw new ZenbuildError(
          refused ? 'NOT_AVAILABLE' : 'BUILD_FAILED',
          refused
            ? `Pushing ${image} was refused by the registry (${lastLines(output)}): check the registry credentials.`
            : `Pushing ${image} failed: ${lastLines(output)}`,
          {
            backend: 'docker',
            details: { command: 'docker push', exitCode: result.exitCode, stderrTail: output },
          },
        );
      }
      // `<tag>: digest: sha256:... size: N`, as the registry reported it.
      const digest = new RegExp(
        `${escapeRegExp(imageTarget(image).tag)}: digest: (sha256:[0-9a-f]{64})`,
      ).exec(output)?.[1];
      if (!digest)
        throw new ZenbuildError('BUILD_FAILED', `docker push ${image} reported no digest.`, {
          backend: 'docker',
        });
      return digest;
    } finally {
      await removePrivateTempDir(dir);
    }
  }

  async imageExists(image: string): Promise<boolean> {
    return (await this.localImage(image)) !== undefined;
  }

  async localImage(image: string): Promise<{ id: string; repoDigests: string[] } | undefined> {
    const execa = await loadExeca();
    const result = await execa(
      this.#binary,
      ['image', 'inspect', '--format', '{{.Id}} {{json .RepoDigests}}', image],
      {
        env: this.#env,
        extendEnv: false,
        reject: false,
      },
    );
    if (result.failed) {
      if (/no such image/i.test(result.stderr)) return undefined;
      throw notAvailable(`docker image inspect ${image} failed: ${lastLines(result.stderr)}`, {
        backend: 'docker',
      });
    }
    const [id, digests] = result.stdout.trim().split(/ (.*)/s);
    return {
      id: id ?? '',
      repoDigests: JSON.parse(digests && digests !== 'null' ? digests : '[]') as string[],
    };
  }

  /** As the daemon's `insecure-registries` say (`docker info`, asked once). */
  async insecureRegistry(host: string): Promise<boolean> {
    this.#registryConfig ??= loadExeca()
      .then((execa) =>
        execa(this.#binary, ['info', '--format', '{{json .RegistryConfig}}'], {
          env: this.#env,
          extendEnv: false,
          reject: false,
        }),
      )
      .then((result) => (result.failed ? undefined : (JSON.parse(result.stdout) as DaemonRegistryConfig)))
      .catch(() => undefined);
    return daemonTreatsAsInsecure(await this.#registryConfig, host);
  }

  async login(registry: ContainerRegistry): Promise<void> {
    if (!registry.credentials) return;
    const dir = await makePrivateTempDir('docker-cli');
    try {
      // `docker login` checks the credentials (through the daemon of the user's context) and writes
      // them into the throwaway config, where the stack's entry already is.
      const config = await this.#configDir(dir, registry);
      const host = registryHost(registry);
      const execa = await loadExeca();
      const result = await execa(
        this.#binary,
        [...config, 'login', '--username', registry.credentials.username, '--password-stdin', host],
        { env: this.#env, extendEnv: false, input: registry.credentials.password, reject: false },
      );
      if (result.failed) {
        throw notAvailable(
          `The registry ${host} refused the login (${lastLines(result.stderr)}): check the registry credentials.`,
          { backend: 'docker' },
        );
      }
    } finally {
      await removePrivateTempDir(dir);
    }
  }

  /**
   * With stack credentials: `--config` with a copy of the user's docker config that holds them
   * (`writeCliConfig`); the user's ~/.docker is never touched. Without: the user's own, as it is.
   */
  async #configDir(dir: string, registry: ContainerRegistry | undefined): Promise<string[]> {
    if (!registry?.credentials) return [];
    return [
      '--config',
      await writeCliConfig(dir, { ...registry, credentials: registry.credentials }, this.#env),
    ];
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
