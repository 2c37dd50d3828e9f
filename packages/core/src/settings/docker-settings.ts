import { z } from 'zod';
import { issuesToError, userInputParse } from '../config/issues.js';
import { laxBoolean } from '../config/lax-boolean.js';
import type { ConfigPath } from '../config/path.js';
import { isImageReference, REPOSITORY_PATH, TAG } from '../naming/reference.js';
import { type BuildOptions, parseBuildOptions } from './build-options.js';

/**
 * ZenML's `DockerSettings`, field for field (src/zenml/config/docker_settings.py). YAML and this schema use ZenML's
 * snake_case names; `toDockerSettings` gives the camelCase TypeScript shape.
 *
 * The schema has no defaults on purpose: settings are validated per level (pipeline, step) so that each
 * error points at the file and level the value came from, then merged field by field, and only then
 * completed with defaults (`withDefaults`).
 */

export const PYTHON_PACKAGE_INSTALLERS = ['pip', 'uv'] as const;
export type PythonPackageInstaller = (typeof PYTHON_PACKAGE_INSTALLERS)[number];

export const ENVIRONMENT_EXPORT_METHODS = ['pip_freeze', 'poetry_export'] as const;
export type EnvironmentExportMethod = (typeof ENVIRONMENT_EXPORT_METHODS)[number];

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
// What apt-get install takes: a Debian package name (policy §5.6.1), optionally `:arch`, then `=version`
// (with apt's `*` glob) or `/release`. No shell metacharacters, nothing starting with `-`.
const APT_PACKAGE = /^[a-z0-9][a-z0-9+.-]+(:[a-z0-9-]+)?(=[A-Za-z0-9.+~:*-]+|\/[A-Za-z0-9.+~-]+)?$/;
const INSTALLER_ARG_KEY = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const USER = /^[A-Za-z0-9_][A-Za-z0-9_.-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]*)?$/;
const NO_NEWLINE = /^[^\r\n\0]*$/;

const nonEmpty = z.string().min(1, 'must not be empty');
const singleLine = (what: string) =>
  nonEmpty.regex(NO_NEWLINE, `${what} must be one line (a newline here would break the Dockerfile)`);

/** Env values may be strings, numbers or booleans; they are rendered as ZenML renders them. */
const envValue = z
  .union([z.string(), z.number(), z.boolean()], {
    error: 'must be a string, number or boolean',
  })
  .transform((v) => (typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v)))
  .pipe(
    z
      .string()
      .regex(
        NO_NEWLINE,
        'must not contain a newline: a Dockerfile ENV cannot hold one (pass multi-line values at run time instead)',
      ),
  );

const envMap = z.record(
  z
    .string()
    .regex(ENV_KEY, 'environment variable names are letters, digits and `_`, not starting with a digit'),
  envValue,
);

const buildConfig = z.strictObject({
  // Parsed by parseBuildOptions after the schema, so that every spelling (docker-py keys too) works.
  build_options: z.record(z.string(), z.unknown()).nullish(),
  dockerignore: nonEmpty.nullish(),
});

export const dockerSettingsSchema = z.strictObject({
  parent_image: nonEmpty
    .refine(
      isImageReference,
      'must be an image reference such as `python:3.11-slim` or `host:5000/repo/name:tag`',
    )
    .nullish(),
  image_tag: nonEmpty
    .regex(
      TAG,
      'must be a valid tag: letters, digits, `_`, `.` and `-`, not starting with `.` or `-`, at most 128 characters',
    )
    .nullish(),
  dockerfile: nonEmpty.nullish(),
  build_context_root: nonEmpty.nullish(),
  parent_image_build_config: buildConfig.nullish(),
  skip_build: laxBoolean.nullish(),
  prevent_build_reuse: laxBoolean.nullish(),
  target_repository: nonEmpty
    .regex(
      REPOSITORY_PATH,
      'must be a repository path such as `zenml` or `team/training` (lowercase, no registry host)',
    )
    .nullish(),
  python_package_installer: z.enum(PYTHON_PACKAGE_INSTALLERS).nullish(),
  python_package_installer_args: z
    .record(
      z.string().regex(INSTALLER_ARG_KEY, 'installer flag names are letters, digits, `-` and `_`'),
      z.union([z.string().regex(NO_NEWLINE, 'must be one line'), z.number(), z.boolean(), z.null()]),
    )
    .nullish(),
  disable_automatic_requirements_detection: laxBoolean.nullish(),
  replicate_local_python_environment: z
    .union([z.array(nonEmpty).min(1), z.enum(ENVIRONMENT_EXPORT_METHODS), laxBoolean], {
      error: 'must be true/false, `pip_freeze`, `poetry_export`, or a command as a list of strings',
    })
    .nullish(),
  pyproject_path: nonEmpty.nullish(),
  pyproject_export_command: z.array(nonEmpty).min(1, 'must name a command').nullish(),
  requirements: z
    .union(
      [
        nonEmpty,
        z.array(
          singleLine('a requirement').refine((line) => !line.trimStart().startsWith('-'), {
            // pip reads an option line in a requirements file as an option: `--index-url` would send
            // every install to another index, `-r /etc/shadow` would read any file.
            error:
              'is a pip option, not a requirement: options do not belong in a requirement list (index options go in `python_package_installer_args`)',
          }),
        ),
      ],
      {
        error: 'must be the path of a requirements file or a list of requirements',
      },
    )
    .nullish(),
  required_integrations: z.array(nonEmpty).nullish(),
  install_stack_requirements: laxBoolean.nullish(),
  install_deployment_requirements: laxBoolean.nullish(),
  local_project_install_command: singleLine('the install command').nullish(),
  apt_packages: z
    .array(
      z
        .string()
        .regex(
          APT_PACKAGE,
          'must be a Debian package name such as `git` or `libgomp1`, optionally with `:arch`, `=version` or `/release`',
        ),
    )
    .nullish(),
  environment: envMap.nullish(),
  runtime_environment: envMap.nullish(),
  user: nonEmpty.regex(USER, 'must be a user name or uid, optionally `:group`').nullish(),
  build_config: buildConfig.nullish(),
  allow_including_files_in_images: laxBoolean.nullish(),
  allow_download_from_code_repository: laxBoolean.nullish(),
  allow_download_from_artifact_store: laxBoolean.nullish(),
  // Deprecated in ZenML; migrated by migrateLegacySettings before this schema sees them.
  build_options: z.record(z.string(), z.unknown()).nullish(),
  dockerignore: nonEmpty.nullish(),
  copy_files: laxBoolean.nullish(),
  copy_global_config: laxBoolean.nullish(),
  required_hub_plugins: z.array(nonEmpty).nullish(),
  source_files: z.string().nullish(),
});

export type DockerSettingsYaml = z.output<typeof dockerSettingsSchema>;
/** What a user may write: the YAML keys, or the camelCase ones from TypeScript. */
export type DockerSettingsInput = Record<string, unknown>;

export const DOCKER_SETTINGS_FIELDS: readonly string[] = Object.keys(dockerSettingsSchema.shape);

export interface DockerBuildConfig {
  buildOptions: BuildOptions;
  dockerignore?: string;
}

export interface DockerSettings {
  parentImage?: string;
  imageTag?: string;
  dockerfile?: string;
  buildContextRoot?: string;
  parentImageBuildConfig?: DockerBuildConfig;
  skipBuild: boolean;
  preventBuildReuse: boolean;
  targetRepository?: string;
  pythonPackageInstaller: PythonPackageInstaller;
  pythonPackageInstallerArgs: Record<string, string | number | boolean | null>;
  disableAutomaticRequirementsDetection: boolean;
  replicateLocalPythonEnvironment?: boolean | EnvironmentExportMethod | string[];
  pyprojectPath?: string;
  pyprojectExportCommand?: string[];
  requirements?: string | string[];
  requiredIntegrations: string[];
  installStackRequirements: boolean;
  installDeploymentRequirements: boolean;
  localProjectInstallCommand?: string;
  aptPackages: string[];
  environment: Record<string, string>;
  runtimeEnvironment: Record<string, string>;
  user?: string;
  buildConfig?: DockerBuildConfig;
  allowIncludingFilesInImages: boolean;
  allowDownloadFromCodeRepository: boolean;
  allowDownloadFromArtifactStore: boolean;
}

/** ZenML's defaults for every field that has one (the newest DockerSettings: uv installer). */
export const DOCKER_SETTINGS_DEFAULTS = {
  skip_build: false,
  prevent_build_reuse: false,
  python_package_installer: 'uv',
  python_package_installer_args: {},
  disable_automatic_requirements_detection: true,
  required_integrations: [],
  install_stack_requirements: true,
  install_deployment_requirements: true,
  apt_packages: [],
  environment: {},
  runtime_environment: {},
  allow_including_files_in_images: true,
  allow_download_from_code_repository: true,
  allow_download_from_artifact_store: true,
} as const satisfies Partial<DockerSettingsYaml>;

export interface ParseContext {
  basePath?: ConfigPath;
  file?: string;
}

/**
 * Validates one level of settings (already migrated, see migrateLegacySettings). Returns only the
 * fields that were given, with nulls dropped, so levels can be merged field by field.
 */
export function parseDockerSettingsLevel(input: unknown, context: ParseContext = {}): DockerSettingsYaml {
  const result = dockerSettingsSchema.safeParse(input ?? {}, userInputParse);
  if (!result.success) {
    throw issuesToError(result.error, {
      what: 'docker settings',
      ...(context.basePath ? { basePath: context.basePath } : {}),
      ...(context.file ? { file: context.file } : {}),
    });
  }
  const data = Object.fromEntries(
    Object.entries(result.data).filter(([, v]) => v !== null && v !== undefined),
  ) as DockerSettingsYaml;
  // Build options accept several spellings; check them now so errors point at this level.
  for (const field of ['build_config', 'parent_image_build_config'] as const) {
    const config = data[field];
    if (config?.build_options) {
      parseBuildOptions(
        config.build_options,
        [...(context.basePath ?? []), field, 'build_options'],
        context.file,
      );
    }
  }
  return data;
}

/** Completes merged settings with ZenML's defaults and converts them to the TypeScript shape. */
export function toDockerSettings(merged: DockerSettingsYaml, context: ParseContext = {}): DockerSettings {
  const s = merged;
  const d = DOCKER_SETTINGS_DEFAULTS;
  const base = context.basePath ?? [];
  const toBuildConfig = (
    config: DockerSettingsYaml['build_config'],
    field: string,
  ): DockerBuildConfig | undefined => {
    if (!config) return undefined;
    return {
      buildOptions: parseBuildOptions(
        config.build_options ?? {},
        [...base, field, 'build_options'],
        context.file,
      ),
      ...(config.dockerignore ? { dockerignore: config.dockerignore } : {}),
    };
  };
  const out: DockerSettings = {
    skipBuild: s.skip_build ?? d.skip_build,
    preventBuildReuse: s.prevent_build_reuse ?? d.prevent_build_reuse,
    pythonPackageInstaller: s.python_package_installer ?? d.python_package_installer,
    pythonPackageInstallerArgs: { ...(s.python_package_installer_args ?? d.python_package_installer_args) },
    disableAutomaticRequirementsDetection:
      s.disable_automatic_requirements_detection ?? d.disable_automatic_requirements_detection,
    requiredIntegrations: [...(s.required_integrations ?? d.required_integrations)],
    installStackRequirements: s.install_stack_requirements ?? d.install_stack_requirements,
    installDeploymentRequirements: s.install_deployment_requirements ?? d.install_deployment_requirements,
    aptPackages: [...(s.apt_packages ?? d.apt_packages)],
    environment: { ...(s.environment ?? d.environment) },
    runtimeEnvironment: { ...(s.runtime_environment ?? d.runtime_environment) },
    allowIncludingFilesInImages: s.allow_including_files_in_images ?? d.allow_including_files_in_images,
    allowDownloadFromCodeRepository:
      s.allow_download_from_code_repository ?? d.allow_download_from_code_repository,
    allowDownloadFromArtifactStore:
      s.allow_download_from_artifact_store ?? d.allow_download_from_artifact_store,
  };
  const optional: Partial<DockerSettings> = {
    parentImage: s.parent_image ?? undefined,
    imageTag: s.image_tag ?? undefined,
    dockerfile: s.dockerfile ?? undefined,
    buildContextRoot: s.build_context_root ?? undefined,
    parentImageBuildConfig: toBuildConfig(s.parent_image_build_config, 'parent_image_build_config'),
    targetRepository: s.target_repository ?? undefined,
    replicateLocalPythonEnvironment: s.replicate_local_python_environment ?? undefined,
    pyprojectPath: s.pyproject_path ?? undefined,
    pyprojectExportCommand: s.pyproject_export_command ?? undefined,
    requirements: s.requirements ?? undefined,
    localProjectInstallCommand: s.local_project_install_command ?? undefined,
    user: s.user ?? undefined,
    buildConfig: toBuildConfig(s.build_config, 'build_config'),
  };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) (out as unknown as Record<string, unknown>)[key] = value;
  }
  return out;
}

/** The YAML form of settings, for checksums and plan output (sorted keys, defaults filled in). */
export function toYamlSettings(settings: DockerSettings): Record<string, unknown> {
  const buildConfigYaml = (config: DockerBuildConfig | undefined) =>
    config ? { build_options: config.buildOptions, dockerignore: config.dockerignore ?? null } : null;
  return {
    allow_download_from_artifact_store: settings.allowDownloadFromArtifactStore,
    allow_download_from_code_repository: settings.allowDownloadFromCodeRepository,
    allow_including_files_in_images: settings.allowIncludingFilesInImages,
    apt_packages: settings.aptPackages,
    build_config: buildConfigYaml(settings.buildConfig),
    build_context_root: settings.buildContextRoot ?? null,
    disable_automatic_requirements_detection: settings.disableAutomaticRequirementsDetection,
    dockerfile: settings.dockerfile ?? null,
    environment: settings.environment,
    image_tag: settings.imageTag ?? null,
    install_deployment_requirements: settings.installDeploymentRequirements,
    install_stack_requirements: settings.installStackRequirements,
    local_project_install_command: settings.localProjectInstallCommand ?? null,
    parent_image: settings.parentImage ?? null,
    parent_image_build_config: buildConfigYaml(settings.parentImageBuildConfig),
    prevent_build_reuse: settings.preventBuildReuse,
    pyproject_export_command: settings.pyprojectExportCommand ?? null,
    pyproject_path: settings.pyprojectPath ?? null,
    python_package_installer: settings.pythonPackageInstaller,
    python_package_installer_args: settings.pythonPackageInstallerArgs,
    replicate_local_python_environment: settings.replicateLocalPythonEnvironment ?? null,
    required_integrations: settings.requiredIntegrations,
    requirements: settings.requirements ?? null,
    runtime_environment: settings.runtimeEnvironment,
    skip_build: settings.skipBuild,
    target_repository: settings.targetRepository ?? null,
    user: settings.user ?? null,
  };
}
