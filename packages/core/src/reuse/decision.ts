import type { BuildStore, PipelineBuildRecord, Stack } from '../contracts.js';
import type { BuildPlan } from '../plan/plan.js';
import type { Warning } from '../warnings.js';
import type { PlanChecksums } from './checksums.js';

export interface ReuseDecision {
  record?: PipelineBuildRecord;
  /** Why a build is or is not reused, for the user. */
  reason: string;
}

export interface FindReusableOptions {
  /** Only the lookup is needed. */
  store: Pick<BuildStore, 'find'>;
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
  const candidates = (
    await options.store.find({ pipeline: plan.pipeline, stack: stack.name, checksum: options.checksum })
  ).filter((r) => r.registry === registry);
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
