import { createHash, randomUUID } from 'node:crypto';
import {
  type Availability,
  type BuildOptions,
  type BuildRequest,
  type ContainerEngine,
  type ContainerRegistry,
  checkSecretSources,
  credentialsForImage,
  imageTarget,
  LogTail,
  locateImage,
  notAvailable,
  pulledRegistryHosts,
  type RegistryCredentials,
  type RunContext,
  type RunMountsRequest,
  refusedByRegistry,
  registryHost,
  secretValue,
  ZenbuildError,
} from '@zenbuild/core/backend';
import type Docker from 'dockerode';
import {
  type ApiBuilder,
  builderForBuild,
  chooseApiBuilder,
  registriesBuildkitMistrusts,
} from './api-builder.js';
import { BuildOutput, postBuild } from './build-request.js';
import { loadTraceDecoder } from './buildkit-progress.js';
import { type BuildkitSession, loadSessionKit, openBuildkitSession } from './buildkit-session.js';
import { type DockerEngineOptions, ENGINE_NAME } from './config.js';
import { type DockerConnection, dockerConnection } from './connection.js';
import { ContextUpload, sentProgress } from './context-upload.js';
import { daemonRequest, getDaemonJson, imagePath } from './daemon-http.js';
import { readDaemonStream } from './daemon-stream.js';
import { daemonFailed, messageOf } from './errors.js';
import { type DaemonRegistryConfig, daemonTreatsAsInsecure } from './insecure-registries.js';
import { loadDockerode } from './load-dockerode.js';
import { toBuildQuery } from './options.js';

/** A ContainerEngine on the Docker Engine API, through dockerode. */
export class DockerEngine implements ContainerEngine {
  readonly name = ENGINE_NAME;
  readonly connection: DockerConnection;
  readonly #env: NodeJS.ProcessEnv;
  #client: Promise<Docker> | undefined;
  #daemonRegistries: Promise<DaemonRegistryConfig | undefined> | undefined;
  #builder: Promise<ApiBuilder> | undefined;
  /** The builder the last check or build found, so that options it cannot honour fail before a build. */
  #builderSeen: ApiBuilder | undefined;

  constructor(options: DockerEngineOptions = {}) {
    this.#env = options.env ?? process.env;
    this.connection = dockerConnection(this.#env);
  }

  /** dockerode, loaded on the first build, push or login (see daemon-http.ts for why not sooner). */
  #docker(): Promise<Docker> {
    this.#client ??= loadDockerode().then((Dockerode) => new Dockerode(this.connection.options));
    return this.#client;
  }

  validateOptions(options: BuildOptions): void {
    // Until the daemon has been asked, as the environment alone decides (DOCKER_BUILDKIT=0 or not).
    const builder = builderForBuild(
      this.#builderSeen ??
        chooseApiBuilder(this.#env, { apiVersion: '1.39', osType: undefined, builderVersion: undefined }),
      options,
    );
    toBuildQuery(options, builder);
    if (builder.buildkit) checkSecretSources(options, this.#env);
  }

  /** Which builder a build runs (BuildKit or the legacy one) and why, from the daemon's `/_ping` (asked once). */
  builder(): Promise<ApiBuilder> {
    this.#builder ??= daemonRequest(this.connection, '/_ping').then((ping) => {
      if (!ping.ok) throw new Error(`the daemon answered HTTP ${ping.status} to /_ping`);
      const builder = chooseApiBuilder(this.#env, {
        apiVersion: ping.header('api-version'),
        osType: ping.header('ostype'),
        builderVersion: ping.header('builder-version'),
      });
      this.#builderSeen = builder;
      return builder;
    });
    this.#builder.catch(() => {
      this.#builder = undefined;
    });
    return this.#builder;
  }

  /** dockerode, grpc-js and protobufjs, loaded in the background (see ContainerEngine.warmUp). */
  warmUp(): void {
    this.#docker().catch(() => {});
    loadSessionKit().catch(() => {});
    loadTraceDecoder().catch(() => {});
  }

  async takesRunMounts(request: RunMountsRequest): Promise<boolean> {
    try {
      return (await this.#builderFor(request)).buildkit;
    } catch {
      return false; // refused when it builds
    }
  }

  /** The daemon's builder, or the legacy one where BuildKit falls short for this build (api-builder.ts). */
  async #builderFor(request: RunMountsRequest): Promise<ApiBuilder> {
    const daemon = await this.builder();
    if (!daemon.buildkit) return daemon;
    const mistrusted = await registriesBuildkitMistrusts(pulledRegistryHosts(request), (host) =>
      this.insecureRegistry(host),
    );
    return builderForBuild(daemon, request.options, mistrusted);
  }

  async check(): Promise<Availability> {
    try {
      const [version, builder] = await Promise.all([
        getDaemonJson<{ Version: string; ApiVersion: string }>(this.connection, '/version'),
        this.builder(),
      ]);
      const which = builder.buildkit
        ? `it builds with BuildKit over the Engine API (${builder.why})`
        : `it builds with the legacy builder over the Engine API (${builder.why})`;
      return {
        available: true,
        reason: `the Docker daemon at ${this.connection.description} answered (Docker ${version.Version}, API ${version.ApiVersion}); ${which}`,
      };
    } catch (error) {
      return {
        available: false,
        reason: `the Docker daemon at ${this.connection.description} does not answer (${messageOf(error)})`,
        hint: 'Start dockerd, or point DOCKER_HOST at a running daemon.',
      };
    }
  }

  async build(request: BuildRequest, run: RunContext): Promise<{ imageId: string }> {
    const daemonBuilder = await this.builder().catch((error: unknown) => {
      throw notAvailable(
        `The Docker daemon at ${this.connection.description} does not answer: ${messageOf(error)}`,
        { backend: ENGINE_NAME, cause: error },
      );
    });
    // Where BuildKit falls short for this build, the legacy builder runs; the build phase says why.
    const builder = await this.#builderFor(request);
    const query = toBuildQuery(request.options, builder);
    if (builder.buildkit) checkSecretSources(request.options, this.#env);
    const tail = new LogTail();
    const registryconfig = await this.#registryConfig(request);
    run.emit({
      type: 'phase',
      image: request.imageName,
      phase: 'build',
      detail: `docker (${this.connection.description}, ${builder.buildkit ? 'BuildKit' : builder === daemonBuilder ? 'legacy builder' : `legacy builder: ${builder.why}`})`,
    });
    const line = (text: string) => {
      tail.push(text);
      run.emit({ type: 'log', image: request.imageName, stream: 'stdout', line: text });
    };
    const output = new BuildOutput(
      line,
      (message) => run.emit({ type: 'warning', image: request.imageName, message }),
      builder.buildkit ? await loadTraceDecoder() : undefined,
    );
    const buildId = randomUUID();
    let session: BuildkitSession | undefined;
    // Why the context could not be sent (a file changed after planning): the build's error, not the daemon's.
    let contextError: unknown;
    const cancel = () => {
      // BuildKit goes on with a build whose client left until told; the docker CLI tells it the same way.
      if (builder.buildkit)
        daemonRequest(this.connection, `/build/cancel?id=${buildId}`, { method: 'POST' }).catch(() => {});
    };
    run.signal.addEventListener('abort', cancel, { once: true });
    const stopped = new AbortController();
    try {
      const docker = await this.#docker();
      // With BuildKit the context goes through the session, file by file, and only what the daemon's
      // copy from the last build lacks (FileSync); the legacy builder takes the whole archive.
      if (builder.buildkit)
        session = await openBuildkitSession(docker, {
          ...this.#sessionProviders(request, registryconfig),
          context: () => request.context.files(),
          sharedKey: sharedKeyOf(request.imageName),
          onSent: sentProgress(request.imageName, run),
          onContextError: (error) => {
            contextError ??= error;
            // The build cannot go on without its context: stopped here, not left to the daemon.
            cancel();
            stopped.abort();
          },
        });
      const stream = await postBuild(
        docker,
        session ? undefined : new ContextUpload(request.context, sentProgress(request.imageName, run)),
        {
          ...query,
          t: request.imageName,
          dockerfile: request.dockerfile,
          ...(session ? { buildid: buildId, session: session.id, remote: 'client-session' } : {}),
        },
        { registryconfig, signal: AbortSignal.any([run.signal, stopped.signal]) },
      );
      await readDaemonStream(stream, (message) => output.handle(message));
    } catch (error) {
      if (contextError instanceof ZenbuildError && !run.signal.aborted) throw contextError;
      throw daemonFailed('build', request.imageName, error, run, tail, this.connection);
    } finally {
      run.signal.removeEventListener('abort', cancel);
      session?.close();
    }
    if (contextError instanceof ZenbuildError) throw contextError;
    if (output.failure) {
      throw new ZenbuildError('BUILD_FAILED', `Building ${request.imageName} failed: ${output.failure}`, {
        backend: ENGINE_NAME,
        details: { stderrTail: tail.text },
      });
    }
    // The stream can end early without an error line; only an image that exists counts as built.
    const inspected = await this.localImage(request.imageName).catch(() => undefined);
    if (!inspected) {
      throw new ZenbuildError(
        'BUILD_FAILED',
        `The build of ${request.imageName} ended, but the image does not exist.`,
        {
          backend: ENGINE_NAME,
          details: { stderrTail: tail.text },
        },
      );
    }
    return { imageId: output.imageId ?? inspected.id };
  }

  /** What a BuildKit session hands the daemon: the pull credentials already chosen, the build's secrets. */
  #sessionProviders(request: BuildRequest, registryconfig: Record<string, AuthConfig> | undefined) {
    return {
      credentials: async (host: string) => {
        const auth = registryconfig?.[host];
        if (!auth) return undefined;
        return 'identitytoken' in auth
          ? { username: '', password: '', identityToken: auth.identitytoken }
          : { username: auth.username, password: auth.password };
      },
      secret: async (id: string) => {
        const source = request.options.secrets?.[id];
        return source ? secretValue(source, this.#env) : undefined;
      },
    };
  }

  async tag(source: string, target: string): Promise<void> {
    const { repository, tag } = imageTarget(target);
    await (await this.#docker()).getImage(source).tag({ repo: repository, tag });
  }

  async push(image: string, registry: ContainerRegistry | undefined, run: RunContext): Promise<string> {
    const { repository, tag } = imageTarget(image);
    const credentials = await credentialsForImage(image, registry, this.#env);
    const tail = new LogTail();
    let digest: string | undefined;
    let failure: string | undefined;
    run.emit({ type: 'phase', image, phase: 'push' });
    try {
      const stream = await (await this.#docker()).getImage(repository).push({
        tag,
        ...(credentials ? { authconfig: authConfig(credentials, locateImage(image).host) } : {}),
        abortSignal: run.signal,
      } as object);
      await readDaemonStream(stream, (message) => {
        const line = message.status ? `${message.id ? `${message.id}: ` : ''}${message.status}` : undefined;
        if (line) {
          tail.push(line);
          run.emit({ type: 'log', image, stream: 'stdout', line });
        }
        if (typeof message.aux === 'object' && message.aux.Digest) digest = message.aux.Digest;
        if (message.error || message.errorDetail) failure = message.errorDetail?.message ?? message.error;
      });
    } catch (error) {
      throw daemonFailed('push', image, error, run, tail, this.connection);
    }
    if (failure) {
      const auth = refusedByRegistry(failure);
      throw new ZenbuildError(
        auth ? 'NOT_AVAILABLE' : 'BUILD_FAILED',
        auth
          ? `Pushing ${image} was refused by the registry (${failure}): ${credentials ? 'check the registry credentials' : 'give the stack registry `credentials` or log in with `docker login`'}.`
          : `Pushing ${image} failed: ${failure}`,
        { backend: ENGINE_NAME, details: { stderrTail: tail.text } },
      );
    }
    if (!digest)
      throw new ZenbuildError('BUILD_FAILED', `Pushing ${image} reported no digest.`, {
        backend: ENGINE_NAME,
      });
    return digest;
  }

  async imageExists(image: string): Promise<boolean> {
    return (await this.localImage(image)) !== undefined;
  }

  async localImage(image: string): Promise<{ id: string; repoDigests: string[] } | undefined> {
    try {
      const info = await getDaemonJson<{ Id: string; RepoDigests?: string[] }>(
        this.connection,
        imagePath(image),
      );
      return { id: info.Id, repoDigests: info.RepoDigests ?? [] };
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined;
      throw notAvailable(`The Docker daemon could not inspect ${image}: ${messageOf(error)}`, {
        backend: ENGINE_NAME,
      });
    }
  }

  /** As the daemon's `insecure-registries` say (its `/info`, asked once). */
  async insecureRegistry(host: string): Promise<boolean> {
    this.#daemonRegistries ??= getDaemonJson<{ RegistryConfig?: DaemonRegistryConfig }>(
      this.connection,
      '/info',
    ).then(
      (info) => info.RegistryConfig,
      () => undefined,
    );
    return daemonTreatsAsInsecure(await this.#daemonRegistries, host);
  }

  async login(registry: ContainerRegistry): Promise<void> {
    if (!registry.credentials) return;
    try {
      await (await this.#docker()).checkAuth({
        ...registry.credentials,
        serveraddress: registryHost(registry),
      });
    } catch (error) {
      throw notAvailable(
        `Logging in to ${registry.uri} failed: ${messageOf(error)}. Check the registry credentials.`,
        {
          backend: ENGINE_NAME,
        },
      );
    }
  }

  /**
   * The credentials a build may pull with (X-Registry-Config): the stack registry's, and the docker
   * config's for each registry the build pulls from (the parent's, or a custom Dockerfile's FROMs). The
   * docker CLI sends every credential it has instead, running every credential helper for each build.
   */
  async #registryConfig(request: BuildRequest) {
    const config: Record<string, ReturnType<typeof authConfig>> = {};
    for (const host of pulledRegistryHosts(request)) {
      const credentials = await credentialsForImage(`${host}/x`, request.registry, this.#env);
      if (credentials) config[host] = authConfig(credentials, host);
    }
    if (request.registry?.credentials) {
      const host = registryHost(request.registry);
      config[host] = authConfig(request.registry.credentials, host);
    }
    return Object.keys(config).length > 0 ? config : undefined;
  }
}

/**
 * The session's shared key: the daemon keeps its copy of a context under it between builds. One per
 * image name (its repository and tag name the pipeline's image, build after build), as the docker CLI
 * keys it by the context directory.
 */
function sharedKeyOf(imageName: string): string {
  return createHash('sha256').update(`zenbuild:${imageName}`).digest('hex').slice(0, 32);
}

type AuthConfig = ReturnType<typeof authConfig>;

/** The Engine API's auth config: user and password, or the identity token the daemon trades itself. */
function authConfig(credentials: RegistryCredentials, serveraddress: string) {
  return credentials.identityToken
    ? { identitytoken: credentials.identityToken, serveraddress }
    : { username: credentials.username, password: credentials.password, serveraddress };
}
