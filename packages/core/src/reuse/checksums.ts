import { isZenbuildError } from '../errors.js';
import { hashParts } from '../plan/checksum.js';
import type { BuildPlan } from '../plan/plan.js';
import type { RegistryClient } from '../registry/client.js';
import { pulledAs } from '../registry/pulled-as.js';
import type { Warning } from '../warnings.js';

/**
 * The images a plan's builds pull that it does not build itself: each generated Dockerfile's parent and
 * each custom Dockerfile's `FROM` and `COPY --from` images. What resolveParentDigests asks for.
 */
export function parentImagesOf(plan: BuildPlan): string[] {
  const built = new Set(plan.builds.map((b) => b.imageName));
  return [...new Set(plan.builds.flatMap((b) => b.pulls).filter((p) => !built.has(p)))];
}

/**
 * The registry digest of each image the builds pull, looked up once per image however many steps use
 * it (ZenML re-ran these lookups per step until PR #5154). One that cannot be resolved is a warning:
 * reuse then cannot notice that image changing.
 */
export async function resolveParentDigests(
  plan: BuildPlan,
  client: RegistryClient,
  warnings: Warning[],
  /** For local builds: the engine's identity of a parent it has (its image id), and whether it is local-only. */
  local?: (image: string) => Promise<{ id: string; repoDigests: string[] } | undefined>,
): Promise<Record<string, string | null>> {
  const out: Record<string, string | null> = {};
  await Promise.all(
    parentImagesOf(plan).map(async (parent) => {
      const here = await local?.(parent);
      // A parent that only exists on this engine under this name (built, imported or tagged here) is
      // identified by its image id.
      if (here && !pulledAs(parent, here.repoDigests)) {
        out[parent] = here.id;
        return;
      }
      let digest: string | undefined;
      let unreachable: string | undefined;
      try {
        digest = await client.manifestDigest(parent);
      } catch (error) {
        if (!isZenbuildError(error)) throw error;
        unreachable = error.message;
      }
      // Without a registry copy to name, the engine's own copy is what the build starts from.
      out[parent] = digest ?? here?.id ?? null;
      if (out[parent] !== null) return;
      warnings.push({
        message:
          unreachable === undefined
            ? `The parent image ${parent} is not in its registry; its digest is not part of the checksum.`
            : `Unable to fetch the digest of the parent image ${parent} (${unreachable}); a build made from an older version of it may be reused.`,
      });
    }),
  );
  return out;
}

export interface PlanChecksums {
  /** The build checksum a pipeline-build record is stored and found under. */
  checksum: string;
  /** Per image key: settings checksum + its builds' context hashes + its parent's digest. */
  images: Record<string, string>;
}

/**
 * The checksum of everything that determines the images: each image's settings checksum (Dockerfile,
 * requirement contents, settings, options, custom Dockerfile), the hash of each build context, and the
 * parent image's digest.
 */
export function planChecksums(
  plan: BuildPlan,
  contextHashes: Record<string, string>,
  parentDigests: Record<string, string | null>,
): PlanChecksums {
  const images: Record<string, string> = {};
  const keys = Object.keys(plan.images).sort();
  const imageChecksum = (key: string): string => {
    const image = plan.images[key];
    if (!image) return '';
    if (image.sameAs) return imageChecksum(image.sameAs);
    const parts: Array<[string, string]> = [['settings', image.settingsChecksum]];
    for (const id of image.builds) {
      const build = plan.builds.find((b) => b.id === id);
      parts.push([`context:${id}`, contextHashes[id] ?? '']);
      // A custom Dockerfile's FROM images count as its parents: a moved tag is a new image.
      for (const pulled of build?.pulls ?? [])
        parts.push([`parent:${pulled}`, parentDigests[pulled] ?? 'unresolved']);
    }
    return hashParts(parts);
  };
  for (const key of keys) images[key] = imageChecksum(key);
  return { checksum: hashParts(keys.map((key) => [key, images[key] ?? ''])), images };
}
