import { type ConfigPath, formatPath } from '../config/path.js';
import { invalidInput } from '../errors.js';
import { isRecord } from '../util/is-record.js';
import type { Warning } from '../warnings.js';
import { DOCKER_SETTINGS_FIELDS } from './docker-settings.js';

const ALLOW_FLAGS = [
  'allow_including_files_in_images',
  'allow_download_from_code_repository',
  'allow_download_from_artifact_store',
] as const;

/** ZenML's legacy `source_files` modes and the allow flags each one turns on (artifact store: never). */
const SOURCE_FILE_MODES: Record<string, (typeof ALLOW_FLAGS)[number][]> = {
  download: ['allow_download_from_code_repository'],
  include: ['allow_including_files_in_images'],
  download_or_include: ['allow_including_files_in_images', 'allow_download_from_code_repository'],
  ignore: [],
};

const camelToSnake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const FIELDS = new Set(DOCKER_SETTINGS_FIELDS);

/** Accepts camelCase keys from the TypeScript API by renaming them to ZenML's YAML names. */
export function normalizeSettingsKeys(
  input: Record<string, unknown>,
  basePath: ConfigPath,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    const snake = FIELDS.has(key) ? key : camelToSnake(key);
    const name = FIELDS.has(snake) ? snake : key;
    if (name in out) {
      const path = formatPath([...basePath, key]);
      throw invalidInput(`${path}: \`${key}\` repeats \`${name}\`; give the setting once`, { path });
    }
    out[name] =
      (name === 'build_config' || name === 'parent_image_build_config') && isRecord(value)
        ? Object.fromEntries(
            Object.entries(value).map(([k, v]) => [k === 'buildOptions' ? 'build_options' : k, v]),
          )
        : value;
  }
  return out;
}

/**
 * Migrates ZenML's deprecated settings to their replacements, as ZenML's validators do, and says so:
 * `source_files` → the allow flags, `build_options` → `parent_image_build_config.build_options`,
 * `dockerignore` → `build_config.dockerignore`. Unused ones (`copy_files`, `copy_global_config`,
 * `required_hub_plugins`) are dropped with a warning.
 */
export function migrateLegacySettings(
  input: Record<string, unknown>,
  basePath: ConfigPath,
  warnings: Warning[],
): Record<string, unknown> {
  const s = { ...input };
  const at = (key: string) => formatPath([...basePath, key]);

  if ('source_files' in s && s.source_files !== null && s.source_files !== undefined) {
    const mode = s.source_files;
    delete s.source_files;
    if (ALLOW_FLAGS.some((flag) => flag in s)) {
      warnings.push({
        path: at('source_files'),
        message: '`source_files` is deprecated and ignored because the `allow_*` settings are also given.',
      });
    } else {
      const flags = typeof mode === 'string' ? SOURCE_FILE_MODES[mode] : undefined;
      if (!flags) {
        throw invalidInput(
          `${at('source_files')}: Invalid source file mode \`${String(mode)}\`. Use one of ${Object.keys(SOURCE_FILE_MODES).join(', ')} (or, better, the allow_* settings).`,
          { path: at('source_files') },
        );
      }
      for (const flag of ALLOW_FLAGS) s[flag] = flags.includes(flag);
      warnings.push({
        path: at('source_files'),
        message: `\`source_files: ${mode}\` is deprecated; migrated to ${ALLOW_FLAGS.map((f) => `${f}: ${s[f]}`).join(', ')}.`,
      });
    }
  }

  if ('build_options' in s) {
    const legacy = s.build_options;
    delete s.build_options;
    if (isRecord(legacy) && Object.keys(legacy).length > 0) {
      // ZenML: `parent_image_build_config.build_options or build_options` (pipeline_docker_image_builder.py):
      // the legacy options apply unless the new field has options of its own.
      const config = isRecord(s.parent_image_build_config) ? s.parent_image_build_config : {};
      const own = config.build_options;
      if (isRecord(own) && Object.keys(own).length > 0) {
        warnings.push({
          path: at('build_options'),
          message:
            '`build_options` is deprecated and ignored because `parent_image_build_config.build_options` is set.',
        });
      } else {
        s.parent_image_build_config = { ...config, build_options: legacy };
        warnings.push({
          path: at('build_options'),
          message: '`build_options` is deprecated; use `parent_image_build_config.build_options`.',
        });
      }
    } else if (legacy !== undefined && legacy !== null && !isRecord(legacy)) {
      throw invalidInput(`${at('build_options')}: must be a mapping of build options`, {
        path: at('build_options'),
      });
    }
  }

  if ('dockerignore' in s) {
    const legacy = s.dockerignore;
    delete s.dockerignore;
    if (typeof legacy === 'string' && legacy) {
      const config = isRecord(s.build_config) ? { ...s.build_config } : {};
      if (config.dockerignore) {
        warnings.push({
          path: at('dockerignore'),
          message: '`dockerignore` is deprecated and ignored because `build_config.dockerignore` is set.',
        });
      } else {
        config.dockerignore = legacy;
        s.build_config = config;
        warnings.push({
          path: at('dockerignore'),
          message: '`dockerignore` is deprecated; use `build_config.dockerignore`.',
        });
      }
    } else if (legacy !== undefined && legacy !== null) {
      throw invalidInput(`${at('dockerignore')}: must be the path of a dockerignore file`, {
        path: at('dockerignore'),
      });
    }
  }

  for (const key of ['copy_files', 'copy_global_config'] as const) {
    if (key in s) {
      if (typeof s[key] !== 'boolean' && s[key] !== null) {
        throw invalidInput(`${at(key)}: must be true or false`, { path: at(key) });
      }
      delete s[key];
      warnings.push({ path: at(key), message: `\`${key}\` is deprecated and has no effect.` });
    }
  }

  if ('required_hub_plugins' in s) {
    const plugins = s.required_hub_plugins;
    delete s.required_hub_plugins;
    if (Array.isArray(plugins) && plugins.length > 0) {
      warnings.push({
        path: at('required_hub_plugins'),
        message: `\`required_hub_plugins\` is deprecated and ignored: the ZenML Hub no longer exists (${plugins.join(', ')} not installed).`,
      });
    }
  }

  const replicate = s.replicate_local_python_environment;
  if (typeof replicate === 'string' || Array.isArray(replicate)) {
    warnings.push({
      path: at('replicate_local_python_environment'),
      message:
        'Giving `replicate_local_python_environment` a command is deprecated; use `pyproject_path` / `pyproject_export_command`, or `true` for pip freeze.',
    });
  }
  return s;
}
