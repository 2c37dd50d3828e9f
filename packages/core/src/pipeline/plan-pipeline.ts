import { type IntegrationCatalog, loadIntegrationCatalog } from '../catalog/integrations.js';
import { inspectCheckout } from '../code/checkout.js';
import { type CodeDelivery, codeDelivery } from '../code/delivery.js';
import type { BuildEvent, CodeLocation } from '../contracts.js';
import { isZenbuildError } from '../errors.js';
import { loadPipelineConfig, type PipelineConfig } from '../pipeline-config/pipeline-config.js';
import { type BuildPlan, planBuilds } from '../plan/plan.js';
import { collectClientInputs, commandKey } from '../plan/requirements.js';
import type { SecretSet } from '../secrets.js';
import { loadStack, type Stack } from '../stack/stack.js';
import { validateImageBuilderFlavor } from '../stack/validate.js';
import type { PipelineBuildRecord } from '../store/build-store.js';

/** What a pipeline run reports as it goes: its builds' events, and the steps around them. */
export type PipelineEvent =
  | BuildEvent
  /** Something the user should know, about a config field (`path`) or a file. */
  | { type: 'notice'; message: string; path?: string }
  /** An earlier build matches: it is used, nothing is built. */
  | { type: 'reuse'; record: PipelineBuildRecord; reason: string }
  /** The builds about to start, and why nothing earlier was reused. */
  | { type: 'building'; builds: Array<{ id: string; imageName: string }>; reason: string }
  /** Where the steps will get their code, once it is there (an archive uploaded, a commit named). */
  | { type: 'code'; location: CodeLocation; message: string };

/** The sink for a run's events; a promise it returns is waited for before the run goes on. */
export type PipelineEventSink = (event: PipelineEvent) => void | Promise<void>;

export interface PlanPipelineOptions {
  /** A pipeline config file, or a config already loaded. */
  pipeline: string | PipelineConfig;
  /** A stack definition file, a stack already loaded, or nothing for the default stack. */
  stack?: string | Stack;
  /** The pipeline's name, for a ZenML config that has none. */
  name?: string;
  /** An extra integrations catalog file. */
  integrations?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * Whether the client-side commands the settings name (`pip freeze`, a pyproject export) run. A plan
   * that only shows (`zenbuild plan`) leaves them out and lists them in `deferredCommands`.
   */
  runCommands?: boolean;
  /** A mask the caller shows output through: the run's secrets are added to it as soon as they are known. */
  secrets?: SecretSet;
  onEvent?: PipelineEventSink;
}

export interface PlannedPipeline {
  plan: BuildPlan;
  stack: Stack;
  pipeline: PipelineConfig;
  /** Commands `runCommands: false` left out, as command lines. */
  deferredCommands: string[];
  /** Where the steps get their code: the image, a repository commit, or an archive in the artifact store. */
  code: CodeDelivery;
}

/** Loads the stack and the pipeline config, runs (or lists) the client-side commands, and plans. */
export async function planPipeline(options: PlanPipelineOptions): Promise<PlannedPipeline> {
  const env = options.env ?? process.env;
  const emit = async (event: PipelineEvent) => options.onEvent?.(event);
  const { stack, warnings } =
    typeof options.stack === 'object'
      ? { stack: options.stack, warnings: [] }
      : await loadStack(options.stack, { env });
  options.secrets?.merge(stack.secrets);
  const notices: Array<{ message: string; path?: string }> = [...warnings];
  try {
    notices.push(...(await validateImageBuilderFlavor(stack)));
  } catch (error) {
    // Planning needs no backend: say the config is unchecked instead of refusing to plan.
    if (!isZenbuildError(error) || error.code !== 'NOT_AVAILABLE') throw error;
    notices.push({
      path: 'components.image_builder',
      message: `${error.message} The plan is shown, but the image builder's config was not checked.`,
    });
  }
  const pipeline =
    typeof options.pipeline === 'object'
      ? options.pipeline
      : await loadPipelineConfig(options.pipeline, {
          env,
          ...(options.name !== undefined ? { name: options.name } : {}),
        });
  options.secrets?.merge(pipeline.secrets);
  const catalog: IntegrationCatalog = await loadIntegrationCatalog(
    options.integrations ?? env.ZENBUILD_INTEGRATIONS,
  );
  // Each distinct settings once (steps with equal settings share one object), named by its first step.
  const levels = [{ settings: pipeline.settings, where: 'settings.docker' }];
  const seen = new Set([pipeline.settings]);
  for (const step of pipeline.steps) {
    if (seen.has(step.settings)) continue;
    seen.add(step.settings);
    levels.push({ settings: step.settings, where: `steps.${step.name}.settings.docker` });
  }
  const deferredCommands: string[] = [];
  const clientInputs = await collectClientInputs(
    levels.map((l) => ({ ...l, baseDir: pipeline.baseDir, sourceRoot: pipeline.sourceRoot })),
    options.runCommands === false
      ? async (command) => {
          deferredCommands.push(commandKey(command));
          return `# zenbuild plan runs nothing: \`zenbuild build\` puts the output of \`${commandKey(command)}\` here\n`;
        }
      : undefined,
  );
  // A clean, pushed checkout of a declared repository gives the steps their code; git answers.
  const checkout = stack.codeRepositories?.length
    ? await inspectCheckout(pipeline.sourceRoot, stack.codeRepositories, env)
    : undefined;
  const plan = planBuilds({
    pipeline,
    stack,
    codeRepositoryUsable: Boolean(checkout && !checkout.unusable),
    catalog,
    clientInputs,
    env,
    ...(env.ZENBUILD_ZENML_VERSION ? { zenmlVersion: env.ZENBUILD_ZENML_VERSION } : {}),
    ...(env.ZENBUILD_PYTHON_VERSION ? { pythonVersion: env.ZENBUILD_PYTHON_VERSION } : {}),
  });
  for (const notice of [...notices, ...plan.warnings]) {
    await emit({ type: 'notice', message: notice.message, ...(notice.path ? { path: notice.path } : {}) });
  }
  return { plan, stack, pipeline, deferredCommands, code: codeDelivery(plan, checkout) };
}
