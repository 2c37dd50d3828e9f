import {
  type BuildStore,
  type ContainerEngine,
  contextHashesOf,
  ensureZenbuildHome,
  executePlan,
  findReusableBuild,
  type ImageBuilder,
  imageBuilderFor,
  invalidInput,
  isZenbuildError,
  LocalImageBuilder,
  type PipelineBuildRecord,
  parentImagesOf,
  planChecksums,
  prepareContexts,
  RegistryClient,
  registryHost,
  removePrivateTempDirsSync,
  resolveParentDigests,
  sweepPrivateTempDirs,
  verifyCustomBuild,
  type Warning,
} from '@zenbuild/core';
import { reportError } from '../errors.js';
import type { Io } from '../io.js';
import { createProgress, type ProgressMode } from '../progress.js';
import { printWarnings } from '../warnings.js';
import { openBuildStore } from './builds.js';
import { type PlanOptions, preparePlan } from './plan.js';

export interface BuildOptions extends PlanOptions {
  progress?: ProgressMode;
  /** False with `--no-reuse`. */
  reuse?: boolean;
  build?: string;
  concurrency?: number;
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
export const EXIT_ON_SIGTERM = 143;
const EXIT_ON_SIGINT = 130;

/**
 * `zenbuild build`: plan, reuse an earlier build when one matches, otherwise build every needed image
 * (parents first, `--concurrency` at a time), push when the stack has a registry, record the build.
 */
export async function buildCommand(io: Io, pipelineFile: string, options: BuildOptions): Promise<number> {
  // What a zenbuild killed outright (kill -9) left in the temp folder: engine auth files among it.
  await sweepPrivateTempDirs();
  const { plan, stack } = await preparePlan(io, pipelineFile, options);
  const home = ensureZenbuildHome(io.env);
  const store = openBuildStore(io);
  // A store that cannot take the record is found before anything is built, not after.
  await store.prepare();
  const contexts = await prepareContexts(plan, { home });
  for (const context of Object.values(contexts)) printWarnings(io, context.walked.warnings);
  const registry = stack.containerRegistry;
  const needsLocalEngine = stack.imageBuilder.flavor === 'local' && plan.builds.length > 0;
  const client = new RegistryClient({
    env: io.env,
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
    builder ??= await imageBuilderFor(stack, { env: io.env, ...(needsLocalEngine ? { onEngine } : {}) });
    return builder;
  };
  const localEngine = async () => {
    const local = await getBuilder();
    return local instanceof LocalImageBuilder ? local.engine : undefined;
  };
  const warnings: Warning[] = [];
  const parentDigests = await resolveParentDigests(
    plan,
    client,
    warnings,
    needsLocalEngine
      ? async (image) => {
          const engine = await localEngine();
          return engine && (inspects.get(engine)?.get(image) ?? engine.localImage(image));
        }
      : undefined,
  );
  printWarnings(io, warnings);
  const contextHashes = contextHashesOf(contexts);
  const checksums = planChecksums(plan, contextHashes, parentDigests);

  // The stack's credentials are tried before anything is built, as `docker login` would try them. Only
  // for a local build, which pushes from this machine: a remote builder may reach a registry this
  // machine cannot.
  const pushed = plan.builds.find((b) => b.push);
  if (pushed && registry?.credentials && stack.imageBuilder.flavor === 'local')
    await client.checkLogin(pushed.imageName);

  if (options.build) return useGivenBuild(io, store, options.build, { plan, stack, checksums }, options.json);

  const decision = await findReusableBuild({
    store,
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
  if (decision.record) {
    io.err(`Reusing build ${decision.record.id}: ${decision.reason}`);
    return printRecord(io, { ...decision.record, reused: true }, options.json);
  }
  if (plan.builds.length > 0) io.err(`Building ${plan.builds.length} image(s): ${decision.reason}`);

  const labels = new Map(plan.builds.map((b) => [b.imageName, b.id]));
  const progress = await createProgress(io, options.progress ?? 'auto', labels);
  const controller = new AbortController();
  // SIGTERM too: it is how CI cancels a job and how `timeout` ends one, and a remote build left
  // running would go on costing. A second signal forces: zenbuild exits at once, removing its temp
  // files with credentials on the way out, and its watchdog stops the engine CLIs it ran.
  let stoppedBy: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    stoppedBy = signal;
    io.err(`Stopping the running builds (${signal === 'SIGINT' ? 'Ctrl-C' : signal} again to force)...`);
    controller.abort();
    removeSignalHandlers();
    for (const again of STOP_SIGNALS) process.once(again, onForce);
  };
  const onForce = (signal: NodeJS.Signals) => {
    removePrivateTempDirsSync();
    process.exit(signal === 'SIGTERM' ? EXIT_ON_SIGTERM : EXIT_ON_SIGINT);
  };
  const removeSignalHandlers = () => {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  let record: PipelineBuildRecord;
  try {
    record = await executePlan({
      plan,
      stack,
      ...(plan.builds.length > 0 ? { builder: await getBuilder() } : {}),
      contexts,
      checksums,
      parentDigests,
      concurrency: options.concurrency ?? 2,
      signal: controller.signal,
      emit: (event) => progress.emit(event),
    });
  } catch (error) {
    // Cancelled by SIGTERM: the exit code says so (128 + 15), as a shell reports a terminated job.
    if (stoppedBy === 'SIGTERM' && isZenbuildError(error) && error.code === 'CANCELLED') {
      reportError(io, error, Boolean(options.json));
      return EXIT_ON_SIGTERM;
    }
    throw error;
  } finally {
    progress.done();
    removeSignalHandlers();
    for (const signal of STOP_SIGNALS) process.off(signal, onForce);
  }
  // A record outlives this process and its secrets: it is saved as it is shown, masked.
  const saved = io.secrets.redactValue(record);
  await store.save(saved);
  return printRecord(io, saved, options.json);
}

async function useGivenBuild(
  io: Io,
  store: BuildStore,
  id: string,
  current: Parameters<typeof verifyCustomBuild>[1],
  json: boolean | undefined,
): Promise<number> {
  const record = await store.get(id);
  if (!record)
    throw invalidInput(
      `--build ${id}: no such build in ${store.home}; \`zenbuild builds list\` shows the ids.`,
    );
  const { warnings, missingKeys } = verifyCustomBuild(record, current);
  if (missingKeys.length > 0) {
    throw invalidInput(
      `--build ${id}: the build has no image for ${missingKeys.join(', ')}, which this pipeline needs.`,
    );
  }
  printWarnings(io, warnings);
  return printRecord(io, { ...record, reused: true }, json);
}

function printRecord(io: Io, record: PipelineBuildRecord, json: boolean | undefined): number {
  if (json) {
    io.json(record);
    return 0;
  }
  const width = Math.max(...Object.keys(record.images).map((k) => k.length), 3);
  io.out(
    [
      `${record.reused ? 'Reused' : 'Built'} pipeline \`${record.pipeline}\` on stack \`${record.stack}\`: build ${record.id}${record.reused ? '' : ` in ${(record.durationMs / 1000).toFixed(1)} s`}`,
      ...Object.entries(record.images).map(([key, image]) => `  ${key.padEnd(width)}  ${image.image}`),
    ].join('\n'),
  );
  return 0;
}
