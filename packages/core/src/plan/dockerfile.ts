import type { DockerSettings } from '../settings/docker-settings.js';
import { INDEX_NETRC_PATH, INDEX_NETRC_SECRET } from './index-credentials.js';
import type { RequirementFile } from './requirements.js';

export const APP_DIR = '/app';
export const DOCKERFILE_NAME = 'Dockerfile';

export interface DockerfileInput {
  parentImage: string;
  settings: DockerSettings;
  requirementFiles: RequirementFile[];
  /** Final apt list: the settings' own, then stack and integrations, without duplicates. */
  aptPackages: string[];
  includeCode: boolean;
  requiresCodeDownload: boolean;
  /** The client's ZENML_LOGGING_COLORS_DISABLED, which ZenML copies into the image. */
  loggingColorsDisabled: string;
  /** Index credentials were taken out of the installs: they read them from a netrc build secret. */
  indexNetrc?: boolean;
}

const INSTALLER_DEFAULT_ARGS: Record<
  DockerSettings['pythonPackageInstaller'],
  Record<string, string | null>
> = {
  pip: { 'no-cache-dir': null, 'default-timeout': '60' },
  uv: { 'no-cache-dir': null },
};

const INSTALLER_COMMAND: Record<DockerSettings['pythonPackageInstaller'], string> = {
  pip: 'pip install',
  uv: 'uv pip install',
};

/**
 * Renders the Dockerfile ZenML would generate (PipelineDockerImageBuilder in src/zenml/utils/pipeline_docker_image_builder.py), without its defects: ENV values are
 * quoted and escaped, keys keep their case, apt lists are cleaned, code is copied with `--chown` instead
 * of a recursive chown layer, and layers go from least to most volatile. docs/dockerfile.md lists every
 * difference from ZenML's file and why.
 */
export function renderDockerfile(input: DockerfileInput): string {
  const { settings } = input;
  const lines: string[] = [`FROM ${input.parentImage}`, `WORKDIR ${APP_DIR}`];

  // Constants first: they never change, so they never invalidate a layer.
  const zenmlEnv: Record<string, string> = {
    ZENML_LOGGING_COLORS_DISABLED: input.loggingColorsDisabled,
    ZENML_ENABLE_REPO_INIT_WARNINGS: 'False',
    ZENML_CONFIG_PATH: `${APP_DIR}/.zenconfig`,
  };
  if (input.requiresCodeDownload) zenmlEnv.ZENML_REQUIRES_CODE_DOWNLOAD = 'True';
  lines.push(...envInstructions(zenmlEnv));

  // Build-time environment comes before installs on purpose: it may configure the installers (ZenML #1665).
  lines.push(...envInstructions(settings.environment));

  if (input.aptPackages.length > 0) {
    lines.push(
      `RUN apt-get update && apt-get install -y --no-install-recommends ${input.aptPackages.map(shellQuote).join(' ')} && rm -rf /var/lib/apt/lists/*`,
    );
  }

  if (input.requirementFiles.length > 0) {
    const installer = settings.pythonPackageInstaller;
    if (installer === 'uv') lines.push('RUN command -v uv >/dev/null 2>&1 || pip install --no-cache-dir uv');
    const args = renderInstallerArgs({
      ...INSTALLER_DEFAULT_ARGS[installer],
      ...settings.pythonPackageInstallerArgs,
    });
    for (const file of input.requirementFiles) {
      // One COPY per file, right before its install: a change re-runs only that install and the ones after it.
      lines.push(`COPY ${file.name} .`);
      // The credentials of private indexes: a secret mount, read through NETRC (index-credentials.ts).
      const netrc = input.indexNetrc
        ? `--mount=type=secret,id=${INDEX_NETRC_SECRET} NETRC=${INDEX_NETRC_PATH}`
        : '';
      lines.push(
        `RUN ${[netrc, INSTALLER_COMMAND[installer], args, '-r', file.name].filter(Boolean).join(' ')}`,
      );
    }
  }

  if (input.includeCode) lines.push(settings.user ? `COPY --chown=${settings.user} . .` : 'COPY . .');
  const install = settings.localProjectInstallCommand;
  if (install && settings.user) {
    // The install may write into /app (build/, *.egg-info) as root: hand it over in the same layer.
    lines.push(`RUN ${install} && chown -R ${settings.user} ${APP_DIR}`);
  } else if (install) {
    lines.push(`RUN ${install}`);
  } else if (settings.user) {
    // Only the directory itself: its contents were copied with --chown already.
    lines.push(`RUN chown ${settings.user} ${APP_DIR}`);
  }
  if (settings.user) lines.push(`USER ${settings.user}`);
  // The run-time environment comes last, after every install (ZenML's docs: it is set right before the
  // entrypoint), so a run-time-only PIP_INDEX_URL or PATH cannot change what the build installs.
  lines.push(...envInstructions(settings.runtimeEnvironment));
  return `${lines.join('\n')}\n`;
}

/**
 * One ENV instruction per variable, as ZenML writes them, so that a value can use the variables before
 * it (`B: "$A/sub"`): Docker expands variables from the instructions above, not from the same one.
 */
export function envInstructions(env: Record<string, string>): string[] {
  return Object.entries(env).map(([key, value]) => `ENV ${key}=${quoteEnvValue(value)}`);
}

/**
 * A value in Dockerfile double quotes: spaces and quotes stay as written, and `$VAR` / `${VAR}` expand as
 * Docker expands them in ZenML's raw `ENV KEY=value` (`PATH: "/opt/venv/bin:$PATH"`). `\$` is a literal
 * `$`; any other backslash and every `"` are escaped, so they reach the image as written.
 */
export function quoteEnvValue(value: string): string {
  return `"${value.replace(/\\\$|[\\"]/g, (match) => (match === '\\$' ? match : `\\${match}`))}"`;
}

/** `{flag: null|true}` → `--flag`, `{key: value}` → `--key=value`, `false` → left out. */
export function renderInstallerArgs(args: Record<string, string | number | boolean | null>): string {
  return Object.entries(args)
    .filter(([, value]) => value !== false)
    .map(([key, value]) =>
      value === null || value === true ? `--${key}` : `--${key}=${shellQuote(String(value))}`,
    )
    .join(' ');
}

const SHELL_SAFE = /^[A-Za-z0-9_./:=@%+,-]+$/;

/** Quotes a word for /bin/sh when it needs it. */
export function shellQuote(word: string): string {
  return SHELL_SAFE.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Where the installers keep their downloads during a build with cache mounts (not in any layer). */
export const INSTALLER_CACHE_DIR = '/var/cache/zenbuild';

const APT_INSTALL = 'RUN apt-get update && apt-get install -y --no-install-recommends ';
// A requirements install as renderDockerfile writes it: mounts, then variables, the installer, its
// arguments, `-r <file>`. A local_project_install_command that happens to run pip does not match.
const REQUIREMENTS_INSTALL =
  /^RUN ((?:--mount=\S+ )*)((?:[A-Z_]+=\S+ )*)(pip install|uv pip install) (.*?)(-r \.zenml_[a-z_]+_requirements)$/;

/**
 * The generated Dockerfile with a BuildKit cache mounted under each installer, for builders that take
 * `RUN --mount` (on by default; `--no-installer-cache` turns it off): pip and uv keep their downloads
 * and wheels in `/var/cache/zenbuild/<installer>` and apt its packages in `/var/cache/apt/archives`
 * (locked: two apt-gets cannot share it), so a build that changes one requirement downloads only that
 * one. The cache is a mount, never a layer: the image holds what it holds without it, plus the empty
 * mount points BuildKit leaves. It rewrites exactly the lines renderDockerfile writes, so that the plan,
 * its checksum and reuse stay the same whichever builder runs; anything else is left as it is.
 */
export function withInstallerCacheMounts(dockerfile: string): string {
  return dockerfile
    .split('\n')
    .map((line) => {
      const install = REQUIREMENTS_INSTALL.exec(line);
      if (install) {
        const [, mounts = '', env = '', command = '', args = '', file = ''] = install;
        if (mounts.includes('type=cache')) return line;
        const installer = command === 'pip install' ? 'pip' : 'uv';
        const dir = `${INSTALLER_CACHE_DIR}/${installer}`;
        const kept = args.replace(/(^| )--no-cache-dir(?= |$)/, '').trim();
        // uv links from its cache, which is another file system here: it copies instead of warning.
        const linkMode = installer === 'uv' ? 'UV_LINK_MODE=copy ' : '';
        return `RUN --mount=type=cache,id=zenbuild-${installer},target=${dir} ${mounts}${linkMode}${env}${command} --cache-dir=${dir} ${kept ? `${kept} ` : ''}${file}`;
      }
      if (line.startsWith(APT_INSTALL)) {
        return `RUN --mount=type=cache,id=zenbuild-apt,target=/var/cache/apt/archives,sharing=locked apt-get update && apt-get install -y --no-install-recommends -o APT::Keep-Downloaded-Packages=true ${line.slice(APT_INSTALL.length)}`;
      }
      return line;
    })
    .join('\n');
}
