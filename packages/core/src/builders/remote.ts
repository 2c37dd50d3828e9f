import type { BuildRequest, BuildSecretSource, RunContext } from '../contracts.js';
import { sharedBuildFlags } from '../engine/cli-flags.js';
import { invalidInput } from '../errors.js';
import { belongsToRegistry } from '../naming/naming.js';
import { repositoryOf } from '../naming/reference.js';
import { type BuildOptionName, type BuildOptions, buildOptionYamlName } from '../settings/build-options.js';
import type { ContainerRegistry } from '../stack/stack.js';

/**
 * The parts every image builder shares, local or remote: where an image goes, which options a builder
 * refuses, and how an upload of the context is reported. Remote flavors import them (the adapter kit).
 */

export interface ImageTarget {
  repository: string;
  tag: string;
}

/**
 * The repository and tag of an image, after checking that it belongs to the registry it will be pushed
 * to (by host and path segments; ZenML compares plain string prefixes).
 */
export function imageTarget(imageName: string, registry?: ContainerRegistry): ImageTarget {
  if (registry && !belongsToRegistry(imageName, registry.uri)) {
    throw invalidInput(
      `Container image \`${imageName}\` does not belong to container registry \`${registry.uri}\`.`,
    );
  }
  const repository = repositoryOf(imageName);
  return { repository, tag: imageName.slice(repository.length + 1) || 'latest' };
}

/** The registry a remote builder pushes to; remote builds have nowhere else to leave an image. */
export function requirePushRegistry(request: BuildRequest, flavor: string): ContainerRegistry {
  if (!request.registry) {
    throw invalidInput(
      `The ${flavor} image builder requires a container registry to push the image to; add a \`container_registry\` to the stack.`,
    );
  }
  return request.registry;
}

/**
 * `docker build` flags for a builder that drives the docker CLI somewhere else, refusing (before anything
 * runs) the options it cannot honour, each with the reason.
 */
export function remoteDockerBuildFlags(
  options: BuildOptions,
  flavor: string,
  refused: Partial<Record<BuildOptionName, string>>,
): string[] {
  for (const [name, why] of Object.entries(refused) as [BuildOptionName, string][]) {
    if (options[name] !== undefined) {
      throw invalidInput(
        `The ${flavor} image builder does not support the build option \`${buildOptionYamlName(name)}\` (${why}); remove it for this stack.`,
        { path: buildOptionYamlName(name) },
      );
    }
  }
  return sharedBuildFlags(options, (pull) => (pull ? ['--pull'] : []));
}

/** A build secret as a cloud build reads it: its id, the build variable its value is put in, where from. */
export interface RemoteBuildSecret {
  id: string;
  /** `ZENBUILD_SECRET_1`, …: what `docker build --secret id=ID,env=VARIABLE` reads. */
  variable: string;
  source: BuildSecretSource;
}

/**
 * The build's secrets as a cloud builder passes them: each one's value is read by the service from its
 * secret store into a variable of the build, and `docker build --secret id=ID,env=VARIABLE` mounts it,
 * so no value is ever in the build's definition (the buildspec, the Build resource) or its logs. A
 * source the service cannot read (a value from this machine) is refused before anything is uploaded.
 */
export function remoteBuildSecrets(
  options: BuildOptions,
  flavor: string,
  stores: { accepts: (source: BuildSecretSource) => boolean; names: string },
): RemoteBuildSecret[] {
  return Object.entries(options.secrets ?? {}).map(([id, source], index) => {
    if (!stores.accepts(source)) {
      throw invalidInput(
        `The ${flavor} image builder takes the build secret \`${id}\` only from ${stores.names}: a value from this machine would have to go into the build's definition, which anyone who can read the build can read. Store it there and name it in \`${buildOptionYamlName('secrets')}\`.`,
        { path: `${buildOptionYamlName('secrets')}.${id}` },
      );
    }
    return { id, variable: `ZENBUILD_SECRET_${index + 1}`, source };
  });
}

/** `--secret id=ID,env=VARIABLE` for each secret. */
export function remoteSecretFlags(secrets: RemoteBuildSecret[]): string[] {
  return secrets.flatMap(({ id, variable }) => ['--secret', `id=${id},env=${variable}`]);
}

/**
 * Uploads a context with the phase events every remote builder reports: where it goes, then how many
 * bytes went, or that the same content was already there.
 */
export async function reportedUpload(
  run: RunContext,
  image: string,
  where: { url: string; store: string },
  upload: (onProgress: (bytes: number) => void) => Promise<{ uploaded: boolean; bytes?: number }>,
): Promise<void> {
  run.emit({ type: 'phase', image, phase: 'upload', detail: where.url });
  const result = await upload((bytes) =>
    run.emit({ type: 'progress', image, current: bytes, unit: 'bytes', verb: 'uploaded' }),
  );
  run.emit({
    type: 'phase',
    image,
    phase: result.uploaded ? 'uploaded' : 'upload skipped',
    detail: result.uploaded ? `${result.bytes ?? 0} bytes` : `the same context is already in ${where.store}`,
  });
  run.signal.throwIfAborted();
}
