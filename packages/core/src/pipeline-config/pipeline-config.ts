import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { directoryProblem } from '../config/file-problem.js';
import { issuesToError, userInputParse } from '../config/issues.js';
import { readYamlFile } from '../config/yaml-file.js';
import { invalidInput, type ZenbuildError } from '../errors.js';
import { SecretSet } from '../secrets.js';
import type { DockerSettings } from '../settings/docker-settings.js';
import {
  completeSettings,
  dedupeWarnings,
  prepareSettingsLevel,
  type ResolveContext,
  type SettingsLevel,
} from '../settings/resolve.js';
import { substituteEnv } from '../settings/substitute.js';
import { isRecord } from '../util/is-record.js';
import { decodeUrlPart, URL_WITH_CREDENTIALS } from '../util/url-credentials.js';
import type { Warning } from '../warnings.js';

/**
 * Keys of a ZenML run configuration that do not concern images (`PipelineRunConfiguration` in
 * src/zenml/config/pipeline_run_configuration.py, `StepConfigurationUpdate` in step_configurations.py).
 * They are accepted (a real ZenML config file works as it is) and ignored; anything else is reported as
 * unknown.
 */
const IGNORED_RUN_KEYS = [
  'run_name',
  'enable_cache',
  'enable_artifact_metadata',
  'enable_artifact_visualization',
  'enable_step_logs',
  'enable_pipeline_logs',
  'schedule',
  'build',
  'tags',
  'extra',
  'model',
  'parameters',
  'retry',
  'failure_hook_source',
  'success_hook_source',
  'substitutions',
  'cache_policy',
  'environment',
  'secrets',
  'display_name',
  'config_path',
  'enable_heartbeat',
  'execution_mode',
  'init_hook_source',
  'init_hook_kwargs',
  'cleanup_hook_source',
  'start_hook_source',
  'end_hook_source',
] as const;

const IGNORED_STEP_KEYS = [
  'name',
  'enable_cache',
  'enable_artifact_metadata',
  'enable_artifact_visualization',
  'enable_step_logs',
  'step_operator',
  'experiment_tracker',
  'parameters',
  'extra',
  'failure_hook_source',
  'success_hook_source',
  'model',
  'retry',
  'substitutions',
  'outputs',
  'cache_policy',
  'environment',
  'secrets',
  'start_hook_source',
  'end_hook_source',
  'runtime',
  'heartbeat_healthy_threshold',
  'group',
] as const;

const ignored = (keys: readonly string[]) => Object.fromEntries(keys.map((k) => [k, z.unknown().optional()]));

// `settings` holds other components' settings too (resources, orchestrator.*); only `docker` is ours.
const settingsSchema = z.record(z.string(), z.unknown()).nullish();

// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find them.
const NO_CONTROL_CHARACTERS = /^[^\u0000-\u001f\u007f-\u009f]*$/;

const pipelineName = z
  .string({ error: 'the pipeline name must be text (image tags derive from it)' })
  .min(1, 'must not be empty')
  // A control character (NUL, a newline) would reach image tags, records and terminals.
  .regex(NO_CONTROL_CHARACTERS, 'must not hold control characters (NUL, newlines, escapes)');

const stepSchema = z.strictObject({ settings: settingsSchema, ...ignored(IGNORED_STEP_KEYS) }).nullish();

const pipelineConfigSchema = z.strictObject({
  // ZenML takes the name from code, so its configs have none: `--name` gives it (LoadPipelineOptions).
  name: pipelineName.optional(),
  source_root: z.string().min(1).nullish(),
  settings: settingsSchema,
  // Checked by validSteps: a loop over 2,000 step names, and each distinct entry once.
  steps: z.unknown().optional(),
  ...ignored(IGNORED_RUN_KEYS),
});

const stepsSchema = z
  .record(
    z
      .string()
      .min(1, 'step names must not be empty')
      .regex(NO_CONTROL_CHARACTERS, 'step names must not hold control characters'),
    z.unknown(),
  )
  .nullish();

type StepConfig = z.output<typeof stepSchema>;

/** Each step entry checked against the step schema, equal entries once, errors naming the step. */
function validSteps(steps: unknown, file: string | undefined): Record<string, StepConfig> {
  if (steps === undefined || steps === null) return {};
  // The names by a loop (zod's record costs more than the rest of a 2,000-step config's checks);
  // when one is wrong, zod's record says what is wrong.
  const nameOk = (name: string) => name.length > 0 && NO_CONTROL_CHARACTERS.test(name);
  if (!isRecord(steps) || !Object.keys(steps).every(nameOk)) throw stepsError(steps, file);
  const checked = new Map<string, StepConfig>();
  const out: Record<string, StepConfig> = {};
  for (const [name, raw] of Object.entries(steps)) {
    const key = JSON.stringify(raw) ?? '';
    let step = checked.get(key);
    if (step === undefined && !checked.has(key)) {
      const result = stepSchema.safeParse(raw, userInputParse);
      if (!result.success) {
        throw issuesToError(result.error, {
          what: 'pipeline config',
          basePath: ['steps', name],
          ...(file ? { file } : {}),
        });
      }
      step = result.data;
      checked.set(key, step);
    }
    out[name] = step;
  }
  return out;
}

/** What zod's record of steps says is wrong with `steps`. */
function stepsError(steps: unknown, file: string | undefined): ZenbuildError {
  const where = file ? { file } : {};
  const result = stepsSchema.safeParse(steps, userInputParse);
  if (result.success) return invalidInput('steps: must be a mapping of step names to steps', where);
  return issuesToError(result.error, { what: 'pipeline config', basePath: ['steps'], ...where });
}

export interface PipelineStep {
  name: string;
  settings: DockerSettings;
  /** A key equal for equal settings, computed once here so planning does not redo it per step. */
  settingsKey: string;
  /** True when the step's effective settings differ from the pipeline's (it then gets its own image). */
  hasOwnSettings: boolean;
}

export interface PipelineConfig {
  name: string;
  /** The file the config came from (absent for programmatic configs). */
  file?: string;
  /** Relative paths in settings (requirements, dockerfile, ...) resolve against this directory. */
  baseDir: string;
  /** The directory whose files go into images that include code. */
  sourceRoot: string;
  settings: DockerSettings;
  settingsKey: string;
  steps: PipelineStep[];
  warnings: Warning[];
  secrets: SecretSet;
}

export interface LoadPipelineOptions {
  env?: NodeJS.ProcessEnv;
  /** The pipeline's name, as ZenML takes it from code; wins over a `name` in the file. */
  name?: string;
}

/** Loads and resolves a pipeline config file: structure, `${VAR}`, every step's effective settings. */
export async function loadPipelineConfig(
  file: string,
  options: LoadPipelineOptions = {},
): Promise<PipelineConfig> {
  const absolute = path.resolve(file);
  const data = await readYamlFile(absolute, 'pipeline config');
  return pipelineConfigFromData(data, { ...options, file: absolute, baseDir: path.dirname(absolute) });
}

export interface PipelineFromDataOptions extends LoadPipelineOptions {
  file?: string;
  baseDir: string;
}

export function pipelineConfigFromData(data: unknown, options: PipelineFromDataOptions): PipelineConfig {
  const file = options.file;
  const parsed = pipelineConfigSchema.safeParse(data, userInputParse);
  if (!parsed.success) {
    throw issuesToError(parsed.error, { what: 'pipeline config', ...(file ? { file } : {}) });
  }
  const config = { ...parsed.data, steps: validSteps(parsed.data.steps, file) };
  const name = options.name ?? config.name;
  if (name === undefined) {
    throw invalidInput(
      `The pipeline config${file ? ` ${file}` : ''} has no \`name\`: a ZenML config takes the pipeline's name from code. Pass it with \`--name NAME\`.`,
      { path: 'name', ...(file ? { file } : {}) },
    );
  }
  const nameProblem = pipelineName.safeParse(name);
  if (!nameProblem.success) {
    throw invalidInput(`--name: ${nameProblem.error.issues[0]?.message ?? 'invalid'}`, { path: 'name' });
  }
  const env = options.env ?? process.env;
  const context: ResolveContext = { env, warnings: [], secrets: new SecretSet() };
  // A password written into a URL anywhere in the config (a build arg a custom Dockerfile reads, say)
  // is masked in every output and record, as a `${VAR}` secret is. Not a short one: masking `test`
  // everywhere would mangle image names in the records (and reuse with them).
  for (const password of urlPasswordsIn(config)) if (password.length >= 8) context.secrets.add(password);
  const fileField = file ? { file } : {};

  const pipelinePath = ['settings', 'docker'];
  // The pipeline level is prepared (validated, substituted) once and merged under every step.
  const pipelineLevel = prepareSettingsLevel(
    { settings: config.settings?.docker as SettingsLevel['settings'], path: pipelinePath, ...fileField },
    context,
  );
  const settings = completeSettings([pipelineLevel], context, pipelinePath, file);
  const pipelineKey = JSON.stringify(settings);

  // Steps with the same settings as written resolve once: a 2,000-step config over a few distinct
  // settings does the work of a few. A step's own problems (errors, warnings) still name that step:
  // the first step of each kind is resolved under its own path, and an error stops there.
  type Resolved = { settings: DockerSettings; settingsKey: string };
  const bySettings = new Map<string, Resolved>();
  const resolveStep = (stepName: string, raw: unknown): Resolved => {
    const cacheKey = raw === undefined || raw === null ? '' : JSON.stringify(raw);
    let known = bySettings.get(cacheKey);
    if (!known) {
      const stepPath = ['steps', stepName, 'settings', 'docker'];
      const stepLevel = prepareSettingsLevel(
        { settings: raw as SettingsLevel['settings'], path: stepPath, ...fileField },
        context,
      );
      const stepSettings = completeSettings([pipelineLevel, stepLevel], context, stepPath, file);
      known = { settings: stepSettings, settingsKey: JSON.stringify(stepSettings) };
      bySettings.set(cacheKey, known);
    }
    return known;
  };
  // Equal step entries are one object (validSteps): known by reference, before any JSON is made.
  const byEntry = new Map<StepConfig, Resolved>();
  const steps: PipelineStep[] = Object.entries(config.steps ?? {}).map(([stepName, step]) => {
    let known = byEntry.get(step);
    if (!known) {
      known = resolveStep(stepName, step?.settings?.docker);
      byEntry.set(step, known);
    }
    return { name: stepName, ...known, hasOwnSettings: known.settingsKey !== pipelineKey };
  });

  const sourceRootRaw = config.source_root
    ? substituteEnv(config.source_root, env, ['source_root'], file).value
    : undefined;
  const sourceRoot = sourceRootRaw
    ? path.resolve(options.baseDir, sourceRootRaw)
    : findSourceRoot(options.baseDir);
  const rootProblem = directoryProblem(sourceRoot);
  if (rootProblem) {
    throw invalidInput(`source_root: ${sourceRoot} ${rootProblem}${file ? ` (in ${file})` : ''}.`, {
      path: 'source_root',
      ...fileField,
    });
  }

  return {
    name,
    ...fileField,
    baseDir: options.baseDir,
    sourceRoot,
    settings,
    settingsKey: pipelineKey,
    steps,
    warnings: dedupeWarnings(context.warnings),
    secrets: context.secrets,
  };
}

/** ZenML's source root: the nearest ancestor holding a `.zen` marker, else the config's own directory. */
export function findSourceRoot(start: string): string {
  let dir = path.resolve(start);
  for (;;) {
    if (existsSync(path.join(dir, '.zen'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve(start);
    dir = parent;
  }
}

/** The passwords of `scheme://user:password@host` URLs in every string of a config, decoded and as written. */
function urlPasswordsIn(value: unknown): string[] {
  const found: string[] = [];
  // Equal step entries are one object (validSteps): 2,000 steps of 5 kinds are 5 walks.
  const seen = new Set<object>();
  const walk = (item: unknown): void => {
    if (typeof item === 'string') {
      if (!item.includes('@')) return;
      for (const [, , , password = ''] of item.matchAll(URL_WITH_CREDENTIALS))
        found.push(password, decodeUrlPart(password));
    } else if (item !== null && typeof item === 'object') {
      if (seen.has(item)) return;
      seen.add(item);
      if (Array.isArray(item)) item.forEach(walk);
      else Object.values(item).forEach(walk);
    }
  };
  walk(value);
  return found;
}
