import {
  type Availability,
  type BuildOptions,
  type BuildRequest,
  type ContainerEngine,
  type ContainerRegistry,
  credentialsForImage,
  imageTarget,
  LogTail,
  locateImage,
  notAvailable,
  pulledRegistryHosts,
  type RegistryCredentials,
  type RunContext,
  refusedByRegistry,
  registryHost,
  ZenbuildError,
} from '@zenbuild/core/backend';
import type Docker from 'dockerode';
import { type DockerEngineOptions, ENGINE_NAME } from './config.js';
import { type DockerConnection, dockerConnection } from './connection.js';
import { ContextUpload, sentProgress } from './context-upload.js';
import { getDaemonJson, imagePath } from './daemon-http.js';
import { type DaemonMessage, readDaemonStream } from './daemon-stream.js';
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
    toBuildQuery(options);
  }

  async check(): Promise<Availability> {
    try {
      const version = await getDaemonJson<{ Version: string; ApiVersion: string }>(
        this.connection,
        '/version',
      );
      return {
        available: true,
        reason: `the Docker daemon at ${this.connection.description} answered (Docker ${version.Version}, API ${version.ApiVersion}); it builds with the legacy builder over the Engine API`,
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
    const query = toBuildQuery(request.options);
    const tail = new LogTail();
    let imageId: string | undefined;
    let failure: string | undefined;
    const registryconfig = await this.#registryConfig(request);
    run.emit({
      type: 'phase',
      image: request.imageName,
      phase: 'build',
      detail: `docker (${this.connection.description})`,
    });
    let stream: NodeJS.ReadableStream;
    try {
      const docker = await this.#docker();
      stream = await docker.buildImage(
        new ContextUpload(request.context, sentProgress(request.imageName, run)),
        {
          ...query,
          t: request.imageName,
          dockerfile: request.dockerfile,
          ...(registryconfig ? { registryconfig } : {}),
          abortSignal: run.signal,
        } as Docker.ImageBuildOptions,
      );
      await readDaemonStream(stream, (message) => {
        for (const line of linesOf(message)) {
          tail.push(line);
          run.emit({ type: 'log', image: request.imageName, stream: 'stdout', line });
        }
        if (message.aux?.ID) imageId = message.aux.ID;
        if (message.error || message.errorDetail) failure = message.errorDetail?.message ?? message.error;
      });
    } catch (error) {
      throw daemonFailed('build', request.imageName, error, run, tail, this.connection);
    }
    if (failure) {
      throw new ZenbuildError('BUILD_FAILED', `Building ${request.imageName} failed: ${failure}`, {
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
    return { imageId: imageId ?? inspected.id };
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
        if (message.aux?.Digest) digest = message.aux.Digest;
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

  /** Credentials the daemon may need to pull a private parent image during the build. */
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

/** The log lines of a build message; `stream` text may hold several. */
function linesOf(message: DaemonMessage): string[] {
  const text =
    message.stream ?? (message.status ? `${message.id ? `${message.id}: ` : ''}${message.status}` : '');
  return text.split('\n').filter((line) => line.trim() !== '');
}

/** `host:5000/repo:tag` → `host:5000/repo` and `tag` (the last colon after the last slash). */

/** The Engine API's auth config: user and password, or the identity token the daemon trades itself. */
function authConfig(credentials: RegistryCredentials, serveraddress: string) {
  return credentials.identityToken
    ? { identitytoken: credentials.identityToken, serveraddress }
    : { username: credentials.username, password: credentials.password, serveraddress };
}
