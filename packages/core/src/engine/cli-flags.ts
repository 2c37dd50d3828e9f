import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BuildOptions, BuildSecretSource } from '../contracts.js';
import { invalidInput } from '../errors.js';

/**
 * Build-arg names the engine CLIs read as their own settings: given to the CLI's environment they would
 * change where it connects or what it reads, so these alone go on the command line as `NAME=value`.
 */
const CLI_SETTING =
  /^(DOCKER_|BUILDKIT_|BUILDX_|CONTAINERS_|BUILDAH_|STORAGE_|XDG_)|^(PATH|HOME|TMPDIR|REGISTRY_AUTH_FILE)$/;

/**
 * The build args a local engine CLI takes from its environment: `--build-arg NAME` without a value reads
 * NAME there (docker and podman alike), so a value (a token from `${VAR}`) never shows in `ps` or
 * /proc/<pid>/cmdline. `env` goes into the CLI's environment.
 */
export function buildArgsThroughEnv(options: BuildOptions): { flags: string[]; env: Record<string, string> } {
  const flags: string[] = [];
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.buildArgs ?? {})) {
    if (CLI_SETTING.test(key)) {
      flags.push('--build-arg', `${key}=${value}`);
    } else {
      flags.push('--build-arg', key);
      env[key] = value;
    }
  }
  return { flags, env };
}

/**
 * The flags the docker and podman CLIs spell alike, in one order. Each CLI engine adds what differs
 * (how `pull` is written, podman's `--format`, which of squash and isolation it accepts). Build args
 * are written `NAME=value` for a command that runs elsewhere (a remote builder's docker); a local CLI
 * takes `buildArgsThroughEnv` instead (`buildArgs: 'env'`).
 */
export function sharedBuildFlags(
  options: BuildOptions,
  pullFlag: (pull: boolean) => string[],
  buildArgs: 'flags' | 'env' = 'flags',
): string[] {
  const flags: string[] = [];
  if (buildArgs === 'env') flags.push(...buildArgsThroughEnv(options).flags);
  else
    for (const [key, value] of Object.entries(options.buildArgs ?? {}))
      flags.push('--build-arg', `${key}=${value}`);
  for (const [key, value] of Object.entries(options.labels ?? {})) flags.push('--label', `${key}=${value}`);
  if (options.target) flags.push('--target', options.target);
  if (options.platform) flags.push('--platform', options.platform);
  if (options.noCache) flags.push('--no-cache');
  if (options.pull !== undefined) flags.push(...pullFlag(options.pull));
  if (options.rm !== undefined) flags.push(`--rm=${options.rm}`);
  if (options.forceRm !== undefined) flags.push(`--force-rm=${options.forceRm}`);
  if (options.network) flags.push('--network', options.network);
  for (const image of options.cacheFrom ?? []) flags.push('--cache-from', image);
  // Bytes without a unit: podman hands a `b` suffix on to the tmpfs mount, which refuses it.
  if (options.shmSize !== undefined) flags.push('--shm-size', String(options.shmSize));
  for (const [host, ip] of Object.entries(options.extraHosts ?? {}))
    flags.push('--add-host', `${host}:${ip}`);
  return flags;
}

/**
 * The build's secrets as `--secret id=ID,src=FILE` flags, the form both the docker CLI and podman take:
 * a file source as it is, an environment variable's value written to a 0600 file in `privateDir` (a
 * private temp dir the caller removes), so no value is ever on a command line.
 */
export async function secretFlags(
  options: BuildOptions,
  env: NodeJS.ProcessEnv,
  privateDir: string,
): Promise<string[]> {
  checkSecretSources(options, env);
  const flags: string[] = [];
  for (const [id, source] of Object.entries(options.secrets ?? {})) {
    if ('file' in source) {
      flags.push('--secret', `id=${id},src=${secretFile(source, env)}`);
      continue;
    }
    const file = path.join(privateDir, `secret-${id}`);
    await writeFile(file, (await secretValue(source, env)) ?? '', { mode: 0o600 });
    flags.push('--secret', `id=${id},src=${file}`);
  }
  return flags;
}

/** Whether a build has secrets to mount (an empty `secrets:` has none). */
export function hasBuildSecrets(options: Pick<BuildOptions, 'secrets'>): boolean {
  return options.secrets !== undefined && Object.keys(options.secrets).length > 0;
}

/** Checks before anything is built that every secret can be read: its variable set, its file there. */
export function checkSecretSources(options: BuildOptions, env: NodeJS.ProcessEnv): void {
  for (const [id, source] of Object.entries(options.secrets ?? {})) {
    const store = cloudSecretStore(source);
    if (store) {
      throw invalidInput(
        `The build secret \`${id}\` comes from ${store}, which only a cloud builder reads during its build; a local build takes \`env:VARIABLE\` or \`file:PATH\`.`,
        { path: `secrets.${id}` },
      );
    }
    const why =
      'env' in source
        ? env[source.env] === undefined && `the variable ${source.env} is not set`
        : 'file' in source &&
          !existsSync(secretFile(source, env)) &&
          `the file ${secretFile(source, env)} does not exist`;
    if (why)
      throw invalidInput(`The build secret \`${id}\` cannot be read: ${why}.`, { path: `secrets.${id}` });
  }
}

/** A secret's value, read when the builder asks for it (a BuildKit session); undefined if it cannot be read. */
export async function secretValue(
  source: BuildSecretSource,
  env: NodeJS.ProcessEnv,
): Promise<Buffer | undefined> {
  if ('value' in source) return Buffer.from(source.value);
  if ('env' in source) {
    const value = env[source.env];
    return value === undefined ? undefined : Buffer.from(value);
  }
  if ('file' in source) return readFile(secretFile(source, env)).catch(() => undefined);
  return undefined;
}

/** The cloud secret store a source names, in words; undefined for a value this machine has. */
export function cloudSecretStore(source: BuildSecretSource): string | undefined {
  if ('awsSecretsManager' in source) return `AWS Secrets Manager (${source.awsSecretsManager})`;
  if ('awsParameterStore' in source)
    return `AWS Systems Manager Parameter Store (${source.awsParameterStore})`;
  if ('gcpSecretManager' in source) return `Google Secret Manager (${source.gcpSecretManager})`;
  return undefined;
}

/** A file source's path, `~/` under HOME. */
function secretFile(source: { file: string }, env: NodeJS.ProcessEnv): string {
  return source.file.startsWith('~/')
    ? path.join(env.HOME ?? os.homedir(), source.file.slice(2))
    : source.file;
}
