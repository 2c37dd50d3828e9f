import type {
  Availability,
  BuildRequest,
  BuiltImage,
  ContainerEngine,
  ImageBuilder,
  RunContext,
  RunMountsRequest,
  StackProblem,
} from '../contracts.js';
import { isZenbuildError, ZenbuildError } from '../errors.js';
import { pulledAs } from '../registry/pulled-as.js';
import type { BuildOptions } from '../settings/build-options.js';
import type { ContainerRegistry, Stack } from '../stack/stack.js';
import { imageTarget } from './remote.js';

export const LOCAL_FLAVOR = 'local';

/**
 * The local image builder (ZenML's LocalImageBuilder, src/zenml/image_builders/local_image_builder.py), engine-agnostic: it drives whichever ContainerEngine was
 * selected (Docker or Podman). With a registry it pushes and returns `repository@sha256:<digest>`;
 * without one the image stays local under its name.
 */
export class LocalImageBuilder implements ImageBuilder {
  readonly flavor = LOCAL_FLAVOR;
  readonly isBuildingLocally = true;
  readonly #loggedIn = new Map<string, Promise<void>>();

  constructor(
    readonly engine: ContainerEngine,
    private readonly availability?: Availability,
  ) {}

  validateStack(_stack: Stack): StackProblem[] {
    return [];
  }

  validateOptions(options: BuildOptions): void {
    this.engine.validateOptions?.(options);
  }

  warmUp(): void {
    this.engine.warmUp?.();
  }

  async takesRunMounts(request: RunMountsRequest): Promise<boolean> {
    return (await this.engine.takesRunMounts?.(request)) ?? false;
  }

  async check(): Promise<Availability> {
    return this.availability ?? this.engine.check();
  }

  async build(request: BuildRequest, run: RunContext): Promise<BuiltImage> {
    const { registry } = request;
    const { repository, tag } = imageTarget(request.imageName, registry);
    const pull = await this.#pull(request);
    const { imageId } = await this.engine.build(
      { ...request, options: { ...request.options, ...(pull === undefined ? {} : { pull }) } },
      run,
    );
    if (!registry) {
      await this.#verifyName(request.imageName, imageId);
      return { image: request.imageName, tag };
    }
    await this.#login(registry);
    const digest = await this.engine.push(request.imageName, registry, run);
    // Checked after the push: if the name still points at this build's image, that is what was pushed.
    await this.#verifyName(request.imageName, imageId);
    return { image: `${repository}@${digest}`, digest, tag };
  }

  /**
   * The name must still point at the image this build made: another build of the same name (another
   * zenbuild process, or a user's `docker build -t`) would otherwise have its image recorded as this one.
   */
  async #verifyName(imageName: string, imageId: string): Promise<void> {
    const current = await this.engine.localImage(imageName);
    if (current?.id === imageId) return;
    throw new ZenbuildError(
      'BUILD_FAILED',
      `${imageName} no longer names the image this build made (${shortId(imageId)}): it ${current ? `names ${shortId(current.id)}` : 'is gone'}, so another build of the same name ran at the same time. Nothing was recorded; build again.`,
      {
        backend: this.engine.name,
        details: { image: imageName, built: imageId, found: current?.id ?? null },
      },
    );
  }

  /**
   * ZenML's pull policy: always for images from elsewhere, never for local-only ones, and for
   * "if not local" pull unless the engine has the parent and it was never pulled from a registry (or
   * left to an engine that pulls only what its registry has newer).
   */
  async #pull(request: BuildRequest): Promise<boolean | undefined> {
    if (request.options.pull !== undefined) return request.options.pull;
    if (request.pullPolicy === 'always') return true;
    if (request.pullPolicy === 'never') return false;
    if (request.pullPolicy !== 'if-not-local') return undefined;
    if (!request.parentImage) return undefined;
    const local = await this.engine.localImage(request.parentImage);
    if (!local) return true;
    if (!pulledAs(request.parentImage, local.repoDigests)) return false; // local-only: never asks a registry
    // A digest for its own name: pulled from its registry, or (podman) merely named so, in which case
    // the engine pulls only what the registry has newer (undefined leaves the policy to it).
    return this.engine.pullsIfNewer ? undefined : true;
  }

  /** One login per registry and process, shared by parallel builds. */
  async #login(registry: ContainerRegistry): Promise<void> {
    if (!registry.credentials) return;
    let login = this.#loggedIn.get(registry.uri);
    if (!login) {
      login = this.engine.login(registry);
      this.#loggedIn.set(registry.uri, login);
      login.catch((error: unknown) => {
        if (isZenbuildError(error)) this.#loggedIn.delete(registry.uri);
      });
    }
    await login;
  }
}

function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}
