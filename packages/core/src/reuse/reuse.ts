import { DigestCache } from '../context/digest-cache.js';
import { hashContext } from '../context/hash.js';
import { type WalkedContext, walkContext } from '../context/walk.js';
import { isZenbuildError } from '../errors.js';
import { hashParts } from '../plan/checksum.js';
import type { BuildPlan } from '../plan/plan.js';
import type { RegistryClient } from '../registry/client.js';
import { pulledAs } from '../registry/pulled-as.js';
import type { Stack } from '../stack/stack.js';
import type { BuildStore, PipelineBuildRecord } from '../store/build-store.js';
import type { Warning } from '../warnings.js';

export interface PreparedContext {
  walked: WalkedContext;
  hash: string;
}

/**
 * Walks and hashes the context of every build in the plan, once each. File digests are cached per
 * context root under `<home>/cache`, so re-planning an unchanged tree reads no file again.
 */
export async function prepareContexts(
  plan: BuildPlan,
  options: { home?: string } = {},
): Promise<Record<string, PreparedContext>> {
  const caches = new Map<string, DigestCache>();
  const cacheFor = async (root: string | undefined) => {
    if (!root || !options.home) return undefined;
    let cache = caches.get(root);
    if (!cache) {
      cache = await DigestCache.open(options.home, root);
      caches.set(root, cache);
    }
    return cache;
  };
  const out: Record<string, PreparedContext> = {};
  for (const build of plan.builds) {
    // zenbuild's home (digest caches, records) must never become part of a context it hashes.
    const walked = await walkContext({
      ...build.context,
      ...(options.home ? { exclude: [homeExclusion(options.home)] } : {}),
    });
    const cache = await cacheFor(walked.root);
    const { hash } = await hashContext(walked.entries, cache ? { cache } : {});
    out[build.id] = { walked, hash };
  }
  await Promise.all([...caches.values()].map((cache) => cache.save()));
  return out;
}

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

export interface ReuseDecision {
  record?: PipelineBuildRecord;
  /** Why a build is or is not reused, for the user. */
  reason: string;
}

export interface FindReusableOptions {
  store: BuildStore;
  plan: BuildPlan;
  checksum: string;
  stack: Stack;
  /** `--no-reuse`. */
  noReuse?: boolean;
  /** Whether an image of an earlier build still exists (the registry, or the local engine for local builds). */
  exists: (image: string) => Promise<boolean>;
}

/**
 * Finds an earlier pipeline build to use instead of building: same stack, same registry, same checksum,
 * and every one of its images still there. Unlike ZenML this also covers images that contain code: the
 * checksum includes the hash of exactly the files that went into them.
 */
export async function findReusableBuild(options: FindReusableOptions): Promise<ReuseDecision> {
  const { plan, stack } = options;
  if (options.noReuse) return { reason: 'reuse is turned off (--no-reuse).' };
  const preventing = Object.values(plan.images).filter((i) => i.preventBuildReuse);
  if (preventing.length > 0) {
    return { reason: `\`prevent_build_reuse\` is set for ${preventing.map((i) => i.key).join(', ')}.` };
  }
  if (plan.builds.length === 0) return { reason: 'nothing needs to be built.' };
  const registry = stack.containerRegistry?.uri ?? null;
  const candidates = (await options.store.findByChecksum(options.checksum)).filter(
    (r) => r.stack === stack.name && r.registry === registry,
  );
  if (candidates.length === 0) {
    return {
      reason: `no earlier build of stack \`${stack.name}\`${registry ? ` and registry ${registry}` : ''} has checksum ${options.checksum.slice(0, 12)} (reuse needs the same stack, registry, settings, requirements, context and parent images).`,
    };
  }
  for (const candidate of candidates) {
    const missing: string[] = [];
    for (const image of Object.values(candidate.images)) {
      if (!(await options.exists(image.image))) missing.push(image.image);
    }
    if (missing.length === 0)
      return {
        record: candidate,
        reason: 'same stack, registry and checksum, and its images still exist.',
      };
  }
  return {
    reason: `earlier builds with this checksum exist, but their images are gone from ${registry ?? 'the engine'}.`,
  };
}

/**
 * `--build ID`: use a given build, warning where it does not match what would be built now (ZenML's `build` run option, src/zenml/pipelines/build_utils.py).
 * A key the pipeline needs that the build lacks is an error.
 */
export function verifyCustomBuild(
  record: PipelineBuildRecord,
  current: { plan: BuildPlan; checksums: PlanChecksums; stack: Stack },
): { warnings: Warning[]; missingKeys: string[] } {
  const warnings: Warning[] = [];
  if (record.stack !== current.stack.name) {
    warnings.push({
      message: `Build ${record.id} was made for stack \`${record.stack}\`, not \`${current.stack.name}\`.`,
    });
  }
  if (record.pipeline !== current.plan.pipeline) {
    warnings.push({
      message: `Build ${record.id} was made for pipeline \`${record.pipeline}\`, not \`${current.plan.pipeline}\`.`,
    });
  }
  if (record.containsCode) {
    warnings.push({
      message: `Build ${record.id} contains code: the code in its images is the code of that build, not yours now.`,
    });
  }
  if (record.registry === null) {
    warnings.push({
      message: `Build ${record.id} is a local build: its images exist only on the machine that built them.`,
    });
  }
  const missingKeys = Object.keys(current.plan.images).filter((key) => !record.images[key]);
  if (record.checksum !== current.checksums.checksum) {
    warnings.push({
      message: `Build ${record.id} does not match the current settings, requirements, context or parent images (checksum ${record.checksum.slice(0, 12)} ≠ ${current.checksums.checksum.slice(0, 12)}).`,
    });
  }
  return { warnings, missingKeys };
}

/** Each build's context hash, by build id. */
export function contextHashesOf(contexts: Record<string, PreparedContext>): Record<string, string> {
  return Object.fromEntries(Object.entries(contexts).map(([id, c]) => [id, c.hash]));
}

/** zenbuild's home, when it lies inside a source tree: its caches and records change with every run. */
export function homeExclusion(home: string): { path: string; reason: string } {
  return { path: home, reason: "zenbuild's home: its caches and build records are never part of a context" };
}
