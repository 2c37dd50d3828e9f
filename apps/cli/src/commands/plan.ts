import {
  type BuildPlan,
  contextHashesOf,
  describeDelivery,
  describePlan,
  ensureZenbuildHome,
  type PipelineEvent,
  planPipeline,
  prepareContexts,
} from '@zenbuild/core';
import type { Io } from '../io.js';
import { printWarnings } from '../warnings.js';

export interface PlanOptions {
  stack?: string;
  json?: boolean;
  integrations?: string;
  /** The pipeline's name, for a ZenML config that has none. */
  name?: string;
}

/** A notice of the run as the CLI prints warnings: `warning: <path>: <message>`. */
export function printNotice(io: Io, event: PipelineEvent): void {
  if (event.type === 'notice') printWarnings(io, [event]);
}

/** Walks and hashes every build context (file digests cached under $ZENBUILD_HOME). */
export async function contextHashes(io: Io, plan: BuildPlan): Promise<Record<string, string>> {
  const contexts = await prepareContexts(plan, { home: ensureZenbuildHome(io.env) });
  for (const context of Object.values(contexts)) printWarnings(io, context.walked.warnings);
  return contextHashesOf(contexts);
}

export async function planCommand(io: Io, pipelineFile: string, options: PlanOptions): Promise<number> {
  // `plan` promises to run nothing: it shows which commands `build` would run, in their place.
  const { plan, deferredCommands, code, stack } = await planPipeline({
    pipeline: pipelineFile,
    ...(options.stack !== undefined ? { stack: options.stack } : {}),
    ...(options.name !== undefined ? { name: options.name } : {}),
    ...(options.integrations !== undefined ? { integrations: options.integrations } : {}),
    env: io.env,
    runCommands: false,
    secrets: io.secrets,
    onEvent: (event) => printNotice(io, event),
  });
  const hashes = await contextHashes(io, plan);
  if (options.json) {
    io.json({ ...describePlan(plan, hashes), code, commandsBuildRuns: deferredCommands });
    return 0;
  }
  io.out(renderPlan(plan, hashes));
  io.out(describeDelivery(code, stack.artifactStore.path ?? '$ZENBUILD_HOME/artifact_store'));
  if (deferredCommands.length > 0) {
    io.out(
      [
        'Commands `zenbuild build` runs on this machine, which `plan` does not run (their output is a',
        'placeholder above, and so the context hashes differ from the build):',
        ...deferredCommands.map((command) => `  ${command}`),
      ].join('\n'),
    );
  }
  return 0;
}

/** The human report: per image its key(s), target, decision and reason, files, Dockerfile, checksum. */
export function renderPlan(plan: BuildPlan, contextHashes: Record<string, string> = {}): string {
  const lines: string[] = [
    `Plan for pipeline \`${plan.pipeline}\` on stack \`${plan.stack}\``,
    `Source root: ${plan.sourceRoot}`,
    `Settings checksum: ${plan.settingsChecksum}`,
    '  (the build checksum that `zenbuild build` records adds the context hashes and the digests of the',
    '  pulled images, which it looks up in their registries, or with the engine for a local-only parent)',
    '',
  ];
  const stepsByKey = new Map<string, string[]>();
  for (const [step, key] of Object.entries(plan.steps))
    stepsByKey.set(key, [...(stepsByKey.get(key) ?? []), step]);

  for (const [key, image] of Object.entries(plan.images)) {
    const steps = stepsByKey.get(key);
    lines.push(`Image ${key}${steps ? ` (steps: ${steps.join(', ')})` : ''}`);
    lines.push(`  image:             ${image.image}`);
    lines.push(`  decision:          ${image.decision}: ${image.reason}`);
    lines.push(`  settings checksum: ${image.settingsChecksum}`);
    if (image.sameAs) {
      lines.push('');
      continue;
    }
    for (const id of image.builds) {
      const build = plan.builds.find((b) => b.id === id);
      if (!build) continue;
      const root = build.context.root ?? '(generated files only)';
      lines.push(
        `  build ${build.id}: ${build.imageName} from context ${root}, pull ${build.pullPolicy}${build.push ? ', pushed' : ', kept local'}`,
      );
      if (contextHashes[build.id]) lines.push(`    context hash: ${contextHashes[build.id]}`);
      if (Object.keys(build.options).length > 0) lines.push(`    options: ${JSON.stringify(build.options)}`);
    }
    if (image.aptPackages.length > 0) lines.push(`  apt packages:      ${image.aptPackages.join(' ')}`);
    if (image.requirementFiles.length > 0) {
      lines.push('  requirement files:');
      for (const file of image.requirementFiles) {
        lines.push(`    ${file.name}  (${file.source})`);
        for (const line of file.content.split('\n').filter(Boolean)) lines.push(`      ${line}`);
      }
    }
    if (image.dockerfile) {
      lines.push('  Dockerfile:');
      for (const line of image.dockerfile.trimEnd().split('\n')) lines.push(`    ${line}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}
