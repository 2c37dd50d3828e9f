import pLimit from 'p-limit';
import { buildContextSource } from '../context/source.js';
import type { BuildEvent, BuildOptions, BuiltImage, ImageBuilder } from '../contracts.js';
import { buildCancelled, invalidInput, ZenbuildError } from '../errors.js';
import { hashParts } from '../plan/checksum.js';
import { DOCKERFILE_NAME, withInstallerCacheMounts } from '../plan/dockerfile.js';
import { INDEX_NETRC_SECRET } from '../plan/index-credentials.js';
import { type BuildPlan, buildSecretsOf, type PlannedBuild } from '../plan/plan.js';
import type { PlanChecksums } from '../reuse/checksums.js';
import { contextHashesOf, type PreparedContext } from '../reuse/prepare-contexts.js';
import type { Stack } from '../stack/stack.js';
import type { PipelineBuildRecord } from '../store/build-store.js';
import { type BuiltImageResult, createBuildRecord } from '../store/record.js';

export interface ExecuteOptions {
  plan: BuildPlan;
  stack: Stack;
  /** Needed only when the plan has builds. */
  builder?: ImageBuilder;
  contexts: Record<string, PreparedContext>;
  checksums: PlanChecksums;
  parentDigests: Record<string, string | null>;
  /** Builds running at once; a custom Dockerfile's image always waits for its parent. */
  concurrency?: number;
  signal: AbortSignal;
  /** The caller's environment: who builds, for the record (CI variables). */
  env?: NodeJS.ProcessEnv;
  /** False: no installer cache mounts in generated Dockerfiles (`--no-installer-cache`). Default: true. */
  installerCache?: boolean;
  emit(event: BuildEvent): void;
}

/**
 * Runs every build of a plan with the image builder, at most `concurrency` at a time, each after the
 * builds it depends on, and returns the pipeline-build record. The first failure stops the rest; a
 * cancelled or failed run returns no record, so nothing half-done is ever recorded. The caller has
 * checked every build's options (validatePlanOptions) before it said it is building.
 */
export async function executePlan(options: ExecuteOptions): Promise<PipelineBuildRecord> {
  const { plan, stack, builder } = options;
  const started = Date.now();
  const limit = pLimit(Math.max(1, options.concurrency ?? 2));
  const stop = new AbortController();
  const signal = AbortSignal.any([options.signal, stop.signal]);
  const results = new Map<string, Promise<BuiltImage & { durationMs: number }>>();

  const runBuild = async (build: PlannedBuild): Promise<BuiltImage & { durationMs: number }> => {
    await Promise.all(build.dependsOn.map((id) => results.get(id)));
    return limit(async () => {
      if (signal.aborted) throw buildCancelled();
      const context = options.contexts[build.id];
      if (!context) throw new ZenbuildError('INTERNAL', `No prepared context for build ${build.id}.`);
      if (!builder) throw new ZenbuildError('INTERNAL', `No image builder for build ${build.id}.`);
      const begin = Date.now();
      options.emit({ type: 'phase', image: build.imageName, phase: 'start', detail: build.id });
      const buildOptions = requestOptions(build);
      const built = await builder.build(
        {
          imageName: build.imageName,
          context: await contextToSend(
            build,
            buildOptions,
            context,
            builder,
            options.installerCache !== false,
          ),
          dockerfile: 'Dockerfile',
          options: buildOptions,
          ...(build.push && stack.containerRegistry ? { registry: stack.containerRegistry } : {}),
          ...(build.parentImage ? { parentImage: build.parentImage } : {}),
          pulls: build.pulls,
          pullPolicy: build.pullPolicy,
        },
        { signal, emit: options.emit },
      );
      options.emit({ type: 'phase', image: build.imageName, phase: 'done', detail: built.image });
      return { ...built, durationMs: Date.now() - begin };
    });
  };

  // Builds are in dependency order in the plan, so a parent's promise exists before its child asks.
  for (const build of plan.builds) {
    const result = runBuild(build);
    results.set(build.id, result);
    // The first failure cancels what is still running or waiting.
    result.catch(() => stop.abort());
  }
  const settled = await Promise.allSettled(results.values());
  if (options.signal.aborted) throw buildCancelled();
  const failures = settled
    .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    .map((r) => r.reason);
  // Report the build that failed, not the ones its failure cancelled.
  const failure =
    failures.find((e) => !(e instanceof ZenbuildError && e.code === 'CANCELLED')) ?? failures[0];
  if (failure) throw failure;

  const built: Record<string, BuiltImageResult> = {};
  for (const build of plan.builds) {
    if (build.role !== 'image') continue;
    const result = await results.get(build.id);
    if (result) {
      built[build.key] = {
        image: result.image,
        ...(result.digest ? { digest: result.digest } : {}),
        durationMs: result.durationMs,
      };
    }
  }
  return createBuildRecord({
    plan,
    stack,
    checksums: options.checksums,
    contextHashes: contextHashesOf(options.contexts),
    parentDigests: options.parentDigests,
    built,
    durationMs: Date.now() - started,
    ...(options.env ? { env: options.env } : {}),
  });
}

/**
 * The context a build sends: the prepared one, or, where the builder takes `RUN --mount`, the same with
 * the generated Dockerfile's installer cache mounts. The record keeps the prepared context's hash (what
 * the build was made of); the one sent has a hash of its own, so that a builder that keeps contexts by
 * hash (podman's unpacked directories) never mixes the two.
 */
async function contextToSend(
  build: PlannedBuild,
  options: BuildOptions,
  context: PreparedContext,
  builder: ImageBuilder,
  installerCache: boolean,
) {
  const { entries } = context.walked;
  const request = {
    options,
    pulls: build.pulls,
    ...(build.parentImage ? { parentImage: build.parentImage } : {}),
  };
  if (!installerCache || !build.generated || !(await builder.takesRunMounts?.(request)))
    return buildContextSource(entries, context.hash);
  const mounted = Buffer.from(withInstallerCacheMounts(build.dockerfile));
  if (mounted.equals(Buffer.from(build.dockerfile))) return buildContextSource(entries, context.hash);
  const withMounts = entries.map((entry) =>
    entry.path === DOCKERFILE_NAME && entry.source?.kind === 'generated'
      ? {
          ...entry,
          size: mounted.length,
          digest: undefined,
          source: { kind: 'generated' as const, content: mounted },
        }
      : entry,
  );
  return buildContextSource(
    withMounts,
    hashParts([
      ['context', context.hash],
      ['cache-mounts', 'v1'],
    ]),
  );
}

/** A build's options as its builder gets them: with the secrets zenbuild made for it (the index netrc). */
function requestOptions(build: PlannedBuild): BuildOptions {
  const made = Object.entries(buildSecretsOf(build));
  if (made.length === 0) return build.options;
  return {
    ...build.options,
    secrets: { ...build.options.secrets, ...Object.fromEntries(made.map(([id, value]) => [id, { value }])) },
  };
}

/**
 * Every build's options as its builder would refuse them, before the first build starts, so that a
 * pipeline is not half built when its last image is refused.
 */
export function validatePlanOptions(plan: BuildPlan, builder: ImageBuilder | undefined): void {
  for (const build of plan.builds) validateBuildOptions(builder, build);
}

/** The builder's refusal of a build's options, naming the image and the settings field they came from. */
function validateBuildOptions(builder: ImageBuilder | undefined, build: PlannedBuild): void {
  try {
    builder?.validateOptions?.(requestOptions(build));
  } catch (error) {
    if (!(error instanceof ZenbuildError) || error.code !== 'INVALID_INPUT') throw error;
    const aboutSecrets = String(error.details.path ?? '').startsWith('secrets');
    if (aboutSecrets && INDEX_NETRC_SECRET in buildSecretsOf(build) && !build.options.secrets) {
      // The user asked for no secret: the private index's credentials did.
      throw invalidInput(
        `Image \`${build.key}\` installs from a private index whose credentials zenbuild passes as a build secret (never in the image), and this builder cannot: ${error.message}`,
        { image: build.key },
      );
    }
    const field = build.optionsPath;
    throw invalidInput(`${field} (image \`${build.key}\`): ${error.message}`, {
      ...error.details,
      path: typeof error.details.path === 'string' ? `${field}.${error.details.path}` : field,
      image: build.key,
    });
  }
}
