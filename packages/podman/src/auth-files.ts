import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { dockerConfigDir, isRecord, type RegistryCredentials } from '@zenbuild/core/backend';

/**
 * The auth files podman reads when it is not given `--authfile`, lowest priority first (containers-
 * auth.json(5)): the docker config, `$XDG_CONFIG_HOME/containers/auth.json`, then the primary file
 * (`$XDG_RUNTIME_DIR/containers/auth.json`, else `/run/containers/<uid>/auth.json`), where `podman login`
 * writes. With REGISTRY_AUTH_FILE set, that file alone.
 */
export function podmanAuthFiles(env: NodeJS.ProcessEnv): string[] {
  if (env.REGISTRY_AUTH_FILE) return [env.REGISTRY_AUTH_FILE];
  const home = env.HOME || os.homedir();
  const configHome = env.XDG_CONFIG_HOME || path.join(home, '.config');
  const runtime = env.XDG_RUNTIME_DIR
    ? path.join(env.XDG_RUNTIME_DIR, 'containers')
    : path.join('/run/containers', String(process.getuid?.() ?? 0));
  return [
    path.join(dockerConfigDir(env), 'config.json'),
    path.join(configHome, 'containers', 'auth.json'),
    path.join(runtime, 'auth.json'),
  ];
}

export interface AuthFileEntries {
  auths: Record<string, unknown>;
  credHelpers: Record<string, string>;
}

/** The `auths` and `credHelpers` of these files merged, a later file winning; unreadable ones add none. */
export async function readAuthFiles(files: string[]): Promise<AuthFileEntries> {
  const merged: AuthFileEntries = { auths: {}, credHelpers: {} };
  for (const file of files) {
    let parsed: { auths?: unknown; credHelpers?: unknown };
    try {
      parsed = JSON.parse(await readFile(file, 'utf8'));
    } catch {
      continue; // podman would not have read it either
    }
    if (isRecord(parsed.auths)) Object.assign(merged.auths, parsed.auths);
    if (isRecord(parsed.credHelpers)) Object.assign(merged.credHelpers, parsed.credHelpers);
  }
  return merged;
}

/**
 * One `auths` entry. An identity token goes with the user name and no password: podman reads the entry
 * only when `auth` is there, then trades the token itself.
 */
export function authEntry(credentials: RegistryCredentials): Record<string, string> {
  return credentials.identityToken
    ? {
        auth: Buffer.from(`${credentials.username}:`).toString('base64'),
        identitytoken: credentials.identityToken,
      }
    : { auth: Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64') };
}
