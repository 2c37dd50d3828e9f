import { existsSync } from 'node:fs';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  type Availability,
  type BuildOptions,
  type BuildRequest,
  buildArgsThroughEnv,
  byteProgressEvents,
  type ContainerEngine,
  type ContainerRegistry,
  checkSecretSources,
  credentialsForImage,
  forwardOutputLines,
  isPlainHttpRegistry,
  LogTail,
  lastLines,
  locateImage,
  makePrivateTempDir,
  notAvailable,
  pulledRegistryHosts,
  type RegistryCredentials,
  type RunContext,
  refusedByRegistry,
  registryHost,
  removePrivateTempDir,
  secretFlags,
  superviseEngineProcess,
  ZenbuildError,
  zenbuildHome,
} from '@zenbuild/core/backend';
import { authEntry, podmanAuthFiles, readAuthFiles } from './auth-files.js';
import { ENGINE_NAME, type PodmanEngineOptions } from './config.js';
import { cancelled, errorLine } from './errors.js';
import { podmanTreatsAsInsecure } from './insecure-registries.js';
import { toBuildFlags } from './options.js';
import { registriesConfWithInsecure } from './registries-conf.js';
import { loadExeca, podmanQuery } from './subprocess.js';
import { UnpackedContexts } from './unpacked-contexts.js';

/** A ContainerEngine on the podman CLI. Every call is a podman subprocess; output becomes events. */
export class PodmanEngine implements ContainerEngine {
  readonly name = ENGINE_NAME;
  readonly #env: NodeJS.ProcessEnv;
  readonly #binary: string;
  readonly #contexts: UnpackedContexts;
  #registries: Promise<Record<string, unknown> | undefined> | undefined;
  readonly #localImages = new Map<string, Promise<{ id: string; repoDigests: string[] } | undefined>>();

  constructor(options: PodmanEngineOptions = {}) {
    const env = { ...(options.env ?? process.env) };
    // podman refuses to run when DOCKER_CONFIG names a directory without config.json; docker does not.
    // Every podman command gets exactly this environment (execa with `extendEnv: false`): execa would
    // otherwise add process.env back, DOCKER_CONFIG included.
    if (env.DOCKER_CONFIG && !existsSync(path.join(env.DOCKER_CONFIG, 'config.json')))
      delete env.DOCKER_CONFIG;
    this.#env = env;
    this.#binary = options.binary ?? 'podman';
    this.#contexts = options.contexts ?? UnpackedContexts.fromEnv(zenbuildHome(env), env);
  }

  validateOptions(options: BuildOptions): void {
    toBuildFlags(options);
    checkSecretSources(options, this.#env);
  }

  /** buildah (podman 4 and later) runs `RUN --mount` whatever the options. */
  async takesRunMounts(): Promise<boolean> {
    return true;
  }

  async check(): Promise<Availability> {
    // `podman version`, not `podman info`: info asks the package manager for the version of every
    // helper (dpkg -S runc, conmon, slirp4netns), 0.4 s on Debian against 0.04 s. The first real command
    // opens the storage and reports its own errors.
    const info = await this.#podman(['version', '--format', '{{.Client.Version}}']);
    if (info.failed) {
      const reason = info.code === 'ENOENT' ? `\`${this.#binary}\` is not on PATH` : lastLines(info.stderr);
      return {
        available: false,
        reason: `podman does not work (${reason})`,
        hint: 'Install podman (e.g. `apt-get install podman`).',
      };
    }
    return { available: true, reason: `podman ${info.stdout.trim()} works` };
  }

  /** `--pull=newer` for the if-not-local policy: podman's repo digests do not say what was pulled. */
  readonly pullsIfNewer = true;

  async build(request: BuildRequest, run: RunContext): Promise<{ imageId: string }> {
    const flags = toBuildFlags(request.options);
    // Pulls the parent when its registry has a newer one; a parent only this machine has (built here,
    // imported, or a registry that does not answer) is used as it is.
    if (request.options.pull === undefined && request.pullPolicy === 'if-not-local')
      flags.push('--pull=newer');
    const dir = await makePrivateTempDir('podman');
    const iidfile = path.join(dir, 'iid');
    // Secrets from variables become files in the private dir, removed with it: never on a command line.
    try {
      flags.push(...(await secretFlags(request.options, this.#env, dir)));
      await keepBuildahCache(dir);
    } catch (error) {
      await removePrivateTempDir(dir);
      throw error;
    }
    // The context is core's, already filtered by the dockerignore. Podman would apply a .containerignore
    // among its files a second time (dropping files the context hash counts), and an empty ignore file
    // makes it fall back to that one: a file whose one pattern re-includes everything keeps it out.
    const ignoreNothing = path.join(dir, 'ignore-nothing');
    await writeFile(ignoreNothing, '!**\n');
    // The pulled images' credentials from the docker config go into the file too, under podman's own
    // files: with `--authfile` podman reads no other source (see #authFile).
    const pulled = pulledRegistryHosts(request);
    const auth = await this.#authFile(dir, {
      ...(request.registry ? { stack: request.registry } : {}),
      fromDockerConfig: await this.#dockerConfigEntries(pulled, request.registry),
    });
    // Loopback registries speak plain http, as for a push. The flag covers every registry the build
    // speaks to, so only when every image it pulls is on one; a build that also pulls over TLS gets a
    // registries.conf that marks just the plain-http ones insecure instead.
    const plainHttp = pulled.filter((host) => this.#plainHttp(host));
    const everyPullPlain = pulled.length > 0 && plainHttp.length === pulled.length;
    const tls = everyPullPlain ? ['--tls-verify=false'] : [];
    const registriesConf =
      !everyPullPlain && plainHttp.length > 0
        ? await registriesConfWithInsecure(this.#env, plainHttp, dir)
        : undefined;
    const tailLines = new LogTail();
    let context: Awaited<ReturnType<UnpackedContexts['checkOut']>> | undefined;
    try {
      // Core's context, written into a directory: podman builds from exactly those files (never the
      // source tree itself), and a directory is about 2 s faster per 100 MB than a tar on podman's
      // stdin. A rebuild of the same context takes the directory an earlier build left.
      context = await this.#contexts.checkOut(request.context.hash, async (into) => {
        run.emit({
          type: 'phase',
          image: request.imageName,
          phase: 'context',
          detail: 'writing the context for podman',
        });
        await request.context.writeTo(into, {
          signal: run.signal,
          onWritten: byteProgressEvents(request.imageName, run, {
            verb: 'written',
            total: request.context.size,
          }),
        });
      });
      run.emit({
        type: 'phase',
        image: request.imageName,
        phase: 'build',
        detail: `podman, ${context.reused ? 'context unchanged since an earlier build' : 'context written'}`,
      });
      const { execa } = await loadExeca();
      const subprocess = execa(
        this.#binary,
        [
          'build',
          ...flags,
          '--iidfile',
          iidfile,
          '--ignorefile',
          ignoreNothing,
          ...tls,
          '-f',
          path.join(context.dir, request.dockerfile),
          '-t',
          request.imageName,
          ...auth.flags,
          context.dir,
        ],
        {
          env: {
            ...this.#engineEnv(dir),
            ...buildArgsThroughEnv(request.options).env,
            ...(registriesConf ? { CONTAINERS_REGISTRIES_CONF: registriesConf } : {}),
          },
          extendEnv: false,
          all: true,
          reject: false,
          detached: true,
        },
      );
      superviseEngineProcess(subprocess, run.signal);
      await forwardOutputLines(subprocess.iterable({ from: 'all' }), request.imageName, run, tailLines);
      const result = await subprocess;
      if (run.signal.aborted) throw cancelled(`build of ${request.imageName}`);
      if (result.failed) {
        const last = errorLine(tailLines.lines) ?? `podman build exited with code ${result.exitCode}`;
        throw new ZenbuildError(
          'BUILD_FAILED',
          `Building ${request.imageName} failed: ${last}${hintFor(last)}`,
          {
            backend: ENGINE_NAME,
            details: { command: 'podman build', exitCode: result.exitCode, stderrTail: tailLines.text },
          },
        );
      }
      this.#localImages.delete(request.imageName);
      return { imageId: `sha256:${(await readFile(iidfile, 'utf8')).trim().replace(/^sha256:/, '')}` };
    } finally {
      await context?.release();
      await removePrivateTempDir(dir);
    }
  }

  async tag(source: string, target: string): Promise<void> {
    this.#localImages.delete(target);
    const result = await this.#podman(['tag', source, target]);
    if (result.failed)
      throw notAvailable(`podman tag ${source} ${target} failed: ${lastLines(result.stderr)}`, {
        backend: ENGINE_NAME,
      });
  }

  async push(image: string, registry: ContainerRegistry | undefined, run: RunContext): Promise<string> {
    const dir = await makePrivateTempDir('podman');
    const digestfile = path.join(dir, 'digest');
    const tailLines = new LogTail();
    run.emit({ type: 'phase', image, phase: 'push' });
    try {
      // Stack credentials for this host win over podman's own files, which win over the docker config.
      const host = locateImage(image).host;
      const stackApplies =
        Boolean(registry?.credentials) && registry !== undefined && registryHost(registry) === host;
      const auth = await this.#authFile(dir, {
        ...(stackApplies && registry ? { stack: registry } : {}),
        fromDockerConfig: stackApplies ? {} : await this.#dockerConfigEntries([host], undefined),
      });
      const { execa } = await loadExeca();
      const subprocess = execa(
        this.#binary,
        [
          'push',
          '--digestfile',
          digestfile,
          ...(this.#plainHttp(host) ? ['--tls-verify=false'] : []),
          ...auth.flags,
          image,
        ],
        { env: this.#engineEnv(dir), extendEnv: false, all: true, reject: false, detached: true },
      );
      superviseEngineProcess(subprocess, run.signal);
      await forwardOutputLines(subprocess.iterable({ from: 'all' }), image, run, tailLines);
      const result = await subprocess;
      if (run.signal.aborted) throw cancelled(`push of ${image}`);
      if (result.failed) {
        const message = errorLine(tailLines.lines) ?? lastLines(tailLines.text);
        const refused = refusedByRegistry(message);
        throw new ZenbuildError(
          refused ? 'NOT_AVAILABLE' : 'BUILD_FAILED',
          refused
            ? `Pushing ${image} was refused by the registry (${message}): ${auth.flags.length > 0 ? 'check the registry credentials' : 'give the stack registry `credentials` or log in with `podman login`'}.`
            : `Pushing ${image} failed: ${message}`,
          {
            backend: ENGINE_NAME,
            details: { command: 'podman push', exitCode: result.exitCode, stderrTail: tailLines.text },
          },
        );
      }
      return (await readFile(digestfile, 'utf8')).trim();
    } finally {
      await removePrivateTempDir(dir);
    }
  }

  async imageExists(image: string): Promise<boolean> {
    const result = await this.#podman(['image', 'exists', image]);
    if (result.exitCode === 0) return true;
    if (result.exitCode === 1) return false;
    throw notAvailable(`podman image exists ${image} failed: ${lastLines(result.stderr)}`, {
      backend: ENGINE_NAME,
    });
  }

  /** One inspect per image and engine instance: the pull policy and the checksum both ask. */
  localImage(image: string): Promise<{ id: string; repoDigests: string[] } | undefined> {
    let known = this.#localImages.get(image);
    if (!known) {
      known = this.#inspect(image);
      this.#localImages.set(image, known);
    }
    return known;
  }

  async #inspect(image: string): Promise<{ id: string; repoDigests: string[] } | undefined> {
    const result = await this.#podman([
      'image',
      'inspect',
      '--format',
      '{{.Id}} {{json .RepoDigests}}',
      image,
    ]);
    if (result.failed) {
      if (/image not known|no such image|failed to find image/i.test(result.stderr)) return undefined;
      throw notAvailable(`podman image inspect ${image} failed: ${lastLines(result.stderr)}`, {
        backend: ENGINE_NAME,
      });
    }
    const [id, digests] = result.stdout.trim().split(/ (.*)/s);
    // Podman records a `localhost/...@digest` for images it built itself; those were never pulled.
    const repoDigests = (JSON.parse(digests ?? '[]') as string[]).filter((d) => !d.startsWith('localhost/'));
    return { id: `sha256:${(id ?? '').replace(/^sha256:/, '')}`, repoDigests };
  }

  /**
   * As podman's registries.conf says (`podman info`, asked once: about 0.4 s, only when zenbuild's
   * registry client met a registry that https does not work for).
   */
  async insecureRegistry(host: string): Promise<boolean> {
    this.#registries ??= this.#podman(['info', '--format', '{{json .Registries}}']).then((result) => {
      if (result.failed) return undefined;
      try {
        return JSON.parse(result.stdout) as Record<string, unknown>;
      } catch {
        return undefined;
      }
    });
    return podmanTreatsAsInsecure(await this.#registries, host);
  }

  async login(registry: ContainerRegistry): Promise<void> {
    if (!registry.credentials) return;
    const dir = await makePrivateTempDir('podman');
    try {
      const host = registryHost(registry);
      const { execa } = await loadExeca();
      const result = await execa(
        this.#binary,
        [
          'login',
          '--authfile',
          path.join(dir, 'auth.json'),
          ...(this.#plainHttp(host) ? ['--tls-verify=false'] : []),
          '--username',
          registry.credentials.username,
          '--password-stdin',
          host,
        ],
        {
          env: this.#engineEnv(dir),
          extendEnv: false,
          input: registry.credentials.password,
          reject: false,
        },
      );
      if (result.failed) {
        throw notAvailable(
          `Logging in to ${registry.uri} failed: ${lastLines(result.stderr)}. Check the registry credentials.`,
          { backend: ENGINE_NAME },
        );
      }
    } finally {
      await removePrivateTempDir(dir);
    }
  }

  /**
   * The environment of a podman command that may handle credentials: its TMPDIR is the command's own
   * private directory, so the copies podman makes there (buildah's copy of the auth file) go with it.
   */
  #engineEnv(dir: string): NodeJS.ProcessEnv {
    return { ...this.#env, TMPDIR: dir };
  }

  /** Loopback registries speak plain http, as Docker assumes by default; podman must be told. */
  #plainHttp(host: string): boolean {
    return isPlainHttpRegistry(host, this.#env);
  }

  /**
   * The docker config's credentials for these hosts (credential helpers and identity tokens included),
   * for an auth file. None with REGISTRY_AUTH_FILE set: podman would read that file alone.
   */
  async #dockerConfigEntries(hosts: string[], registry: ContainerRegistry | undefined) {
    const entries: Record<string, RegistryCredentials> = {};
    if (this.#env.REGISTRY_AUTH_FILE) return entries;
    for (const host of hosts) {
      if (registry?.credentials && registryHost(registry) === host) continue;
      const credentials = await credentialsForImage(`${host}/x`, undefined, this.#env);
      if (credentials) entries[host] = credentials;
    }
    return entries;
  }

  /**
   * A throwaway auth file, so passwords go through a 0600 file and never through the command line:
   * the docker config's credentials for the pulled hosts, under the entries of the files podman reads
   * itself (`podmanAuthFiles`), under the stack registry's. `--authfile` makes podman read no other
   * file, so without that merge a `podman login` or a parent on another registry would be lost. Nothing
   * to add: no file, and podman reads its own.
   */
  async #authFile(
    dir: string,
    sources: { stack?: ContainerRegistry; fromDockerConfig: Record<string, RegistryCredentials> },
  ) {
    const stackHost = sources.stack?.credentials ? registryHost(sources.stack) : undefined;
    if (Object.keys(sources.fromDockerConfig).length === 0 && !stackHost) return { flags: [] as string[] };
    const own = await readAuthFiles(podmanAuthFiles(this.#env));
    const auths: Record<string, unknown> = {};
    for (const [host, credentials] of Object.entries(sources.fromDockerConfig))
      auths[host] = authEntry(credentials);
    Object.assign(auths, own.auths);
    // A helper named for a host answers before its `auths` entry: the stack's entry must win.
    const credHelpers = { ...own.credHelpers };
    if (stackHost && sources.stack?.credentials) {
      auths[stackHost] = authEntry(sources.stack.credentials);
      delete credHelpers[stackHost];
    }
    const file = path.join(dir, 'auth.json');
    await writeFile(file, JSON.stringify({ auths, credHelpers }), { mode: 0o600 });
    return { flags: ['--authfile', file] };
  }

  #podman(args: string[]) {
    return podmanQuery(this.#binary, args, this.#env);
  }
}

/** What to do about a podman error whose own words do not say it. */
function hintFor(message: string): string {
  // Docker takes `team/base` as docker.io/team/base, or as the local image of that name; podman looks a
  // short name up only through registries.conf, and a local image is `localhost/team/base` there.
  const shortName = /short-name "([^"]+)" did not resolve/.exec(message)?.[1];
  if (shortName)
    return ` (podman resolves a short name only through registries.conf: write the full name, \`docker.io/${shortName}\` for Docker Hub, or \`localhost/${shortName}\` for an image built or loaded into podman here)`;
  return '';
}

/**
 * buildah keeps `RUN --mount=type=cache` directories in `$TMPDIR/buildah-cache`, and podman's TMPDIR is
 * the build's private dir (removed after it). A link there to where podman keeps them without a TMPDIR
 * (/var/tmp; `buildah-cache-<uid>` when rootless) keeps the cache between builds, shared with the user's
 * own `podman build`s; removing the private dir removes only the link.
 */
async function keepBuildahCache(privateDir: string): Promise<void> {
  const uid = process.getuid?.() ?? 0;
  const shared = path.join('/var/tmp', uid === 0 ? 'buildah-cache' : `buildah-cache-${uid}`);
  await mkdir(shared, { recursive: true, mode: 0o700 });
  await symlink(shared, path.join(privateDir, 'buildah-cache'), 'dir');
}
