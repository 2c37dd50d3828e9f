import { type ConfigPath, formatPath } from '../config/path.js';
import { invalidInput } from '../errors.js';
import { looksSecret, SecretSet } from '../secrets.js';
import { isRecord } from '../util/is-record.js';
import type { Warning } from '../warnings.js';
import {
  type DockerSettings,
  type DockerSettingsInput,
  type DockerSettingsYaml,
  parseDockerSettingsLevel,
  toDockerSettings,
} from './docker-settings.js';
import { migrateLegacySettings, normalizeSettingsKeys } from './legacy.js';
import { type Substitution, substituteEnv } from './substitute.js';

/** One level of settings (pipeline, then step) and where it sits in its file. */
export interface SettingsLevel {
  settings: DockerSettingsInput | undefined;
  path: ConfigPath;
  file?: string;
}

export interface ResolveContext {
  env: NodeJS.ProcessEnv;
  warnings: Warning[];
  secrets: SecretSet;
}

/**
 * Prepares one level: camelCase keys renamed, `${VAR}` substituted, deprecated fields migrated, every
 * value validated with its full path. Returns only the fields the level sets.
 */
export function prepareSettingsLevel(level: SettingsLevel, context: ResolveContext): DockerSettingsYaml {
  if (level.settings === undefined || level.settings === null) return {} as DockerSettingsYaml;
  if (!isRecord(level.settings)) {
    const path = formatPath(level.path);
    throw invalidInput(`${path}: docker settings must be a mapping of setting names to values`, {
      path,
      ...(level.file ? { file: level.file } : {}),
    });
  }
  const keyed = normalizeSettingsKeys(level.settings, level.path);
  const { value, substitutions } = substituteEnv(keyed, context.env, level.path, level.file);
  registerSecrets(substitutions, context.secrets);
  const migrated = migrateLegacySettings(value, level.path, context.warnings);
  return parseDockerSettingsLevel(migrated, {
    basePath: level.path,
    ...(level.file ? { file: level.file } : {}),
  });
}

/**
 * Later levels win; a mapping merges into the mapping below it at any depth, as ZenML's
 * `recursive_update` (src/zenml/utils/dict_utils.py) merges step settings over the pipeline's: a step's
 * `build_config.build_options.buildargs: {B: "2"}` over the pipeline's `{A: "1"}` gives both. Lists and
 * other values are replaced whole.
 */
export function mergeSettingsLevels(levels: DockerSettingsYaml[]): DockerSettingsYaml {
  let out: Record<string, unknown> = {};
  for (const level of levels) out = recursiveUpdate(out, level);
  return out as DockerSettingsYaml;
}

function recursiveUpdate(original: Record<string, unknown>, update: Record<string, unknown>) {
  const out = { ...original };
  for (const [key, value] of Object.entries(update)) {
    // ZenML: `original.get(key) or {}`, so a null below counts as an empty mapping.
    const below = out[key] ?? {};
    out[key] = isRecord(value) && isRecord(below) ? recursiveUpdate(below, value) : value;
  }
  return out;
}

/**
 * Resolves the effective settings from levels ordered general → specific (pipeline, step): each level is
 * validated on its own, merged, completed with ZenML's defaults and checked as a whole.
 */
export function resolveSettingsLevels(levels: SettingsLevel[], context: ResolveContext): DockerSettings {
  const prepared = levels.map((level) => prepareSettingsLevel(level, context));
  const last = levels[levels.length - 1];
  return completeSettings(prepared, context, last?.path ?? [], levels.find((l) => l.file)?.file);
}

/** Merges prepared levels, fills in defaults and checks the result as a whole (errors name `basePath`). */
export function completeSettings(
  prepared: DockerSettingsYaml[],
  context: ResolveContext,
  basePath: ConfigPath,
  file?: string,
): DockerSettings {
  const settings = toDockerSettings(mergeSettingsLevels(prepared), { basePath, ...(file ? { file } : {}) });
  checkSettings(settings, basePath, context.warnings, file);
  registerNamedSecrets(settings, context.secrets);
  return settings;
}

/**
 * Values under a secret-looking name are masked however they were written: a literal
 * `DB_PASSWORD: hunter22` as much as one from `${VAR}`.
 */
function registerNamedSecrets(settings: DockerSettings, secrets: SecretSet): void {
  const maps = [
    settings.environment,
    settings.runtimeEnvironment,
    settings.buildConfig?.buildOptions?.buildArgs ?? {},
    settings.parentImageBuildConfig?.buildOptions?.buildArgs ?? {},
  ];
  // A flag or a number under such a name (`API_KEY_REQUIRED: True`) is no secret, and masking it
  // would blank every `True` in the output.
  for (const map of maps)
    for (const [name, value] of Object.entries(map))
      if (looksSecret(name) && !NOT_SECRET_TEXT.test(String(value))) secrets.add(String(value));
}

const NOT_SECRET_TEXT = /^(True|False|true|false|\d+(\.\d+)?)$/;

/** Rules that span several fields (ZenML's model validators), plus warnings about ignored values. */
export function checkSettings(
  settings: DockerSettings,
  basePath: ConfigPath,
  warnings: Warning[],
  file?: string,
): void {
  const at = (key: string) => formatPath([...basePath, key]);
  const fileDetail = file ? { file } : {};
  if (settings.skipBuild && !settings.parentImage) {
    throw invalidInput(
      `${at('skip_build')}: settings that skip the build must contain a parent image, which is used directly to run the steps. Set \`parent_image\` or remove \`skip_build\`.`,
      { path: at('skip_build'), ...fileDetail },
    );
  }
  if (settings.localProjectInstallCommand && !settings.allowIncludingFilesInImages) {
    throw invalidInput(
      `${at('local_project_install_command')}: files must be included in the image to install a local python package; set \`allow_including_files_in_images: true\` or remove the command.`,
      { path: at('local_project_install_command'), ...fileDetail },
    );
  }
  if (settings.dockerfile && settings.parentImage && !settings.skipBuild) {
    warnings.push({
      path: at('parent_image'),
      message: '`parent_image` is ignored because `dockerfile` is set: the custom Dockerfile is the parent.',
    });
  }
  if (settings.buildContextRoot && !settings.dockerfile) {
    warnings.push({
      path: at('build_context_root'),
      message: '`build_context_root` only applies to the build of a custom `dockerfile` and is ignored here.',
    });
  }
  const lowerKeys = Object.keys(settings.environment).filter((key) => key !== key.toUpperCase());
  if (lowerKeys.length > 0) {
    warnings.push({
      path: at('environment'),
      message: `Environment variable names are kept as written (${lowerKeys.join(', ')}); ZenML would upper-case them.`,
    });
  }
  for (const [field, map] of [
    ['environment', settings.environment],
    ['runtime_environment', settings.runtimeEnvironment],
  ] as const) {
    const baked = Object.keys(map).filter(looksSecret);
    if (baked.length === 0) continue;
    warnings.push({
      path: at(field),
      message: `${baked.join(', ')} will be baked into the image as ENV: anyone who can pull the image reads ${baked.length > 1 ? 'them' : 'it'} (\`docker inspect\`, \`docker history\`). Pass ${baked.length > 1 ? 'them' : 'it'} at run time instead, or, where only the build needs ${baked.length > 1 ? 'them' : 'it'}, use a build secret (\`RUN --mount=type=secret\` in a custom Dockerfile).`,
    });
  }
}

/** Each step re-resolves the pipeline level; say each thing once. */
export function dedupeWarnings(warnings: Warning[]): Warning[] {
  const seen = new Set<string>();
  return warnings.filter((w) => {
    const key = `${w.path ?? ''}\u0000${w.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Values that came from `${VAR}` under a secret-looking name are masked in everything we print. */
export function registerSecrets(substitutions: Substitution[], secrets: SecretSet): void {
  for (const s of substitutions) {
    const lastSegment =
      s.path
        .split(/[.[\]"]/)
        .filter(Boolean)
        .pop() ?? '';
    if (looksSecret(s.variable) || looksSecret(lastSegment)) secrets.add(s.value);
  }
}

export interface ResolveDockerSettingsInput {
  pipeline?: DockerSettingsInput;
  steps?: Record<string, DockerSettingsInput | undefined>;
  env?: NodeJS.ProcessEnv;
}

export interface ResolvedDockerSettings {
  pipeline: DockerSettings;
  steps: Record<string, DockerSettings>;
  warnings: Warning[];
  secrets: SecretSet;
}

/**
 * The programmatic form of what a pipeline config does: pipeline-level settings, step overrides (step
 * wins field by field), `${VAR}` substitution. Keys may be ZenML's snake_case or camelCase.
 */
export function resolveDockerSettings(input: ResolveDockerSettingsInput): ResolvedDockerSettings {
  const context: ResolveContext = { env: input.env ?? process.env, warnings: [], secrets: new SecretSet() };
  const pipelineLevel: SettingsLevel = { settings: input.pipeline, path: ['settings', 'docker'] };
  const pipeline = resolveSettingsLevels([pipelineLevel], context);
  const steps: Record<string, DockerSettings> = {};
  for (const [name, settings] of Object.entries(input.steps ?? {})) {
    steps[name] = resolveSettingsLevels(
      [pipelineLevel, { settings, path: ['steps', name, 'settings', 'docker'] }],
      context,
    );
  }
  return { pipeline, steps, warnings: dedupeWarnings(context.warnings), secrets: context.secrets };
}
