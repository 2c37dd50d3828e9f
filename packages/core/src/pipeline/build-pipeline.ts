import { executePlan, validatePlanOptions } from '../build/execute.js';
import { LocalImageBuilder } from '../builders/local.js';
import { imageBuilderFor } from '../builders/resolve.js';
import { makeCodeArchive, uploadCodeArchive } from '../code/archive.js';
import { type CodeDelivery, recordedCode } from '../code/delivery.js';
import type {
  BuildStore,
  CodeLocation,
  ContainerEngine,
  ImageBuilder,
  Stack,
  StoreProblem,
} from '../contracts.js';
import { buildCancelled, invalidInput, isZenbuildError } from '../errors.js';
import { ensureZenbuildHome } from '../home/home.js';
import { RegistryClient } from '../registry/client.js';
import { registryHost } from '../registry/image-credentials.js';
import { parentImagesOf, planChecksums, resolveParentDigests } from '../reuse/checksums.js';
import { findReusableBuild, verifyCustomBuild } from '../reuse/decision.js';
import { contextHashesOf, prepareContexts } from '../reuse/prepare-contexts.js';
import { LocalBuildStore, type PipelineBuildRecord } from '../store/build-store.js';
import { artifactStoreObjects, openBuildStore, type StoreChoice } from '../store/open-store.js';
import { describeStoreProblem } from '../store/record-schema.js';
import { sweepPrivateTempDirs } from '../util/private-temp.js';
import type { Warning } from '../warnings.js';
import { type PipelineEvent, type PlanPipelineOptions, planPipeline } from './plan-pipeline.js';

export interface BuildPipelineOptions extends PlanPipelineOptions {
  /**
   * Where records are found and kept. Default: the stack's artifact store when it is s3 or gcs (shared
   * by everyone on the stack), else the store under `$ZENBUILD_HOME`; `storeChoice` overrides that.
   */
  store?: BuildStore;
  /** `local` or `stack` (`--store`, `ZENBUILD_STORE`). */
  storeChoice?: StoreChoice;
  /** False: build even when an earlier build matches (`--no-reuse`). */
  reuse?: boolean;
  /** Use this recorded build instead of building; a mismatch is a notice, a missing image an error. */
  buildId?: string;
  /** Builds running at once (default 2). */
  concurrency?: number;
  /**
   * False: generated Dockerfiles mount no installer caches (`--no-installer-cache`). Default: they do
   * wherever the builder takes `RUN --mount`; the image's contents and the checksum are the same.
   */
  installerCache?: boolean;
  /** Aborting it stops the running builds (a remote one too); nothing is recorded. */
  signal?: AbortSignal;
}

export interface PipelineBuildResult {
  /** The record, as saved: secrets masked. `reused` when nothing was built. */
  record: PipelineBuildRecord;
}

/**
 * Builds a pipeline's images as `zenbuild build` does: plan, prepare the contexts, reach the registry,
 * resolve the parents' digests, compute the checksums, reuse an earlier build that matches, otherwise
 * build (parents first, `concurrency` at a time), push and record. Events go to `onEvent`; errors are
 * ZenbuildErrors whose code says what kind (input, not available, build failed, cancelled).
 */
export async function buildPipeline(options: BuildPipelineOptions): Promise<PipelineBuildResult> {
  const env = options.env ?? process.env;
  const signal = options.signal ?? new AbortController().signal;
  const emit = async (event: PipelineEvent) => options.onEvent?.(event);
  const notices = async (warnings: Warning[]) => {
    for (const w of warnings)
      await emit({ type: 'notice', message: w.message, ...(w.path ? { path: w.path } : {}) });
  };
  const stopIfAborted = () => {
    if (signal.aborted) throw buildCancelled();
  };

  // What a zenbuild killed outright (kill -9) left in the temp folder: engine auth files among it.
  await sweepPrivateTempDirs();
  const { plan, stack, pipeline, code } = await planPipeline({ ...options, runCommands: true });
  stopIfAborted();
  if (code.nowhere.length > 0) {
    throw invalidInput(
      `The steps of ${code.nowhere.join(', ')} would have no code: their docker settings allow neither including it in the image (\`allow_including_files_in_images\`) nor downloading it (\`allow_download_from_code_repository\` from a clean checkout of a code repository the stack declares${code.repositoryUnusable ? `; here ${code.repositoryUnusable}` : ''}, or \`allow_download_from_artifact_store\`). Allow one of them.`,
    );
  }
  const home = ensureZenbuildHome(env);
  const damaged: Warning[] = [];
  const onProblem = (problem: StoreProblem) => damaged.push({ message: describeStoreProblem(problem) });
  // A caller's own store is used as it is; only this machine's is opened beside it, as a fallback.
  const opened = options.store
    ? { store: options.store, local: new LocalBuildStore(home, { onProblem }) }
    : await openBuildStore({
        stack,
        env,
        ...(options.storeChoice ? { choice: options.storeChoice } : {}),
        onProblem,
      });
  const { store } = opened;
  // A store that cannot take the record is found before anything is built, not after; so is this
  // machine's, where the record goes if a shared store refuses it after the build.
  await store.prepare();
  if (store !== opened.local) await opened.local.prepare();
  const contextsReady = prepareContexts(plan, { home });
  contextsReady.catch(() => {}); // awaited below

  const registry = stack.containerRegistry;
  const needsLocalEngine = stack.imageBuilder.flavor === 'local' && plan.builds.length > 0;
  const client = new RegistryClient({
    env,
    ...(registry?.credentials ? { credentials: { [registryHost(registry)]: registry.credentials } } : {}),
    // A registry https fails for is spoken to as the local engine does, when the engine treats it as
    // insecure (docker's `insecure-registries`, podman's registries.conf): it pulls from it the same way.
    ...(needsLocalEngine
      ? {
          engineInsecure: async (host: string) =>
            (await (await localEngine())?.insecureRegistry?.(host)) ?? false,
        }
      : {}),
  });
  // The parents' inspects start as soon as an engine exists, beside its availability check: for podman
  // two commands at once instead of one after the other. Without a registry, so do the inspects of the
  // images the plan builds, which are what a local record holds and what its reuse check asks about.
  const inspects = new WeakMap<ContainerEngine, Map<string, ReturnType<ContainerEngine['localImage']>>>();
  const onEngine = (engine: ContainerEngine) => {
    const images = [...parentImagesOf(plan), ...(registry ? [] : plan.builds.map((b) => b.imageName))];
    const started = new Map(images.map((image) => [image, engine.localImage(image)]));
    // An engine that turns out unavailable is dropped with its inspects, which must not go unhandled.
    for (const inspect of started.values()) inspect.catch(() => {});
    inspects.set(engine, started);
  };
  let builder: ImageBuilder | undefined;
  const getBuilder = async () => {
    builder ??= await imageBuilderFor(stack, { env, ...(needsLocalEngine ? { onEngine } : {}) });
    return builder;
  };
  const localEngine = async () => {
    const local = await getBuilder();
    return local instanceof LocalImageBuilder ? local.engine : undefined;
  };
  // With --no-reuse a build is certain: the builder loads what it builds with while the contexts hash.
  if (options.reuse === false && plan.builds.length > 0 && options.buildId === undefined)
    getBuilder().then(
      (b) => b.warmUp?.(),
      () => {}, // the builder's own error comes again where it is reported
    );
  const contexts = await contextsReady;
  for (const context of Object.values(contexts)) await notices(context.walked.warnings);
  stopIfAborted();
  const digestWarnings: Warning[] = [];
  const parentDigests = await resolveParentDigests(
    plan,
    client,
    digestWarnings,
    needsLocalEngine
      ? async (image) => {
          const engine = await localEngine();
          return engine && (inspects.get(engine)?.get(image) ?? engine.localImage(image));
        }
      : undefined,
  );
  await notices(digestWarnings);
  const checksums = planChecksums(plan, contextHashesOf(contexts), parentDigests);

  // The stack's credentials are tried before anything is built, as `docker login` would try them. Only
  // for a local build, which pushes from this machine: a remote builder may reach a registry this
  // machine cannot.
  const pushed = plan.builds.find((b) => b.push);
  if (pushed && registry?.credentials && stack.imageBuilder.flavor === 'local')
    await client.checkLogin(pushed.imageName);
  stopIfAborted();

  // Where the steps will get their code: zenbuild's own folders never go into a code archive.
  const deliver = () =>
    deliverCode(code, pipeline.sourceRoot, stack, env, emit, [
      home,
      ...(stack.artifactStore.flavor === 'local' && stack.artifactStore.path
        ? [stack.artifactStore.path]
        : []),
    ]);

  if (options.buildId !== undefined) {
    const record = await store.get(options.buildId);
    await notices(damaged.splice(0));
    if (!record)
      throw invalidInput(
        `--build ${options.buildId}: no such build in ${store.location}; \`zenbuild builds list\` shows the ids.`,
      );
    const { warnings, missingKeys } = verifyCustomBuild(record, { plan, stack, checksums });
    if (missingKeys.length > 0) {
      throw invalidInput(
        `--build ${options.buildId}: the build has no image for ${missingKeys.join(', ')}, which this pipeline needs.`,
      );
    }
    await notices(warnings);
    // Images without code need it delivered for this run, as for a reused build.
    const given = record.containsCode ? undefined : await deliver();
    return { record: { ...record, reused: true, ...(given ? { code: given } : {}) } };
  }

  // A store that cannot be read does not stop the build: it goes ahead without reuse, and says why.
  const lookup = {
    find: async (query: Parameters<BuildStore['find']>[0]) => {
      try {
        return await store.find(query);
      } catch (error) {
        if (signal.aborted) throw error;
        await emit({
          type: 'notice',
          message: `Could not read the build store ${store.location} (${messageOf(error)}); building without reuse.`,
        });
        return [];
      }
    },
  };
  const decision = await findReusableBuild({
    store: lookup,
    plan,
    checksum: checksums.checksum,
    stack,
    noReuse: options.reuse === false,
    // Pushed images are checked in the registry; local ones with the engine that built them.
    exists: async (image) => {
      if (registry) return client.exists(image);
      const engine = await localEngine();
      if (!engine) return false;
      const inspected = inspects.get(engine)?.get(image);
      return inspected ? (await inspected) !== undefined : engine.imageExists(image);
    },
  });
  await notices(damaged.splice(0));
  // The code goes where the steps will look for it, whether the images are reused or built.
  const codeLocation = await deliver();
  stopIfAborted();
  if (decision.record) {
    const record = { ...decision.record, reused: true, ...(codeLocation ? { code: codeLocation } : {}) };
    await emit({ type: 'reuse', record, reason: decision.reason });
    return { record };
  }
  // Refused options are said before "Building …", not after it.
  if (plan.builds.length > 0) validatePlanOptions(plan, await getBuilder());
  await emit({
    type: 'building',
    builds: plan.builds.map((b) => ({ id: b.id, imageName: b.imageName })),
    reason: decision.reason,
  });
  const record = await executePlan({
    plan,
    stack,
    ...(plan.builds.length > 0 ? { builder: await getBuilder() } : {}),
    contexts,
    checksums,
    parentDigests,
    concurrency: options.concurrency ?? 2,
    installerCache: options.installerCache ?? !/^(0|false|no|off)$/i.test(env.ZENBUILD_INSTALLER_CACHE ?? ''),
    signal,
    env,
    emit: (event) => void options.onEvent?.(event),
  });
  if (codeLocation) record.code = codeLocation;
  // A record outlives this process and its secrets: it is saved masked, as it is shown.
  const saved = options.secrets ? options.secrets.redactValue(record) : record;
  try {
    await store.save(saved);
  } catch (error) {
    // Nothing built is lost: a shared store that cannot take the record now gets it from `builds sync`.
    if (store === opened.local || (isZenbuildError(error) && error.code === 'INVALID_INPUT')) throw error;
    await opened.local.save(saved);
    await emit({
      type: 'notice',
      message: `Could not save build ${saved.id} in ${store.location} (${messageOf(error)}); it is kept in this machine's store ${opened.local.location}. \`zenbuild builds sync\` with this stack uploads it.`,
    });
  }
  return { record: saved };
}

/**
 * Puts the code where the steps will get it: an archive of the source root in the artifact store's
 * `code_uploads/` (once per content), or nothing to move for a repository commit. Returns where.
 */
async function deliverCode(
  code: CodeDelivery,
  sourceRoot: string,
  stack: Stack,
  env: NodeJS.ProcessEnv,
  emit: (event: PipelineEvent) => Promise<void>,
  exclude: string[],
): Promise<CodeLocation | undefined> {
  let archivePath: string | undefined;
  if (code.sources.includes('artifact-store')) {
    const archive = await makeCodeArchive(sourceRoot, env, exclude);
    const objects = await artifactStoreObjects(stack, env);
    const { path, uploaded } = await uploadCodeArchive(archive, objects);
    archivePath = path;
    await emit({
      type: 'code',
      location: { path },
      message: uploaded
        ? `Uploaded the code (${archive.files} files, ${archive.bytes.length} bytes) to ${path}${code.repositoryUnusable ? `; not from the code repository: ${code.repositoryUnusable}` : ''}.`
        : `The code is already in ${path}; nothing uploaded.`,
    });
  }
  const location = recordedCode(code, archivePath);
  if (location && 'commit' in location)
    await emit({
      type: 'code',
      location,
      message: `The steps get their code from ${location.repository} at commit ${location.commit.slice(0, 12)}.`,
    });
  return location;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
