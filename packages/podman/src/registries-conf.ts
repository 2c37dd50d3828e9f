import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isRecord } from '@zenbuild/core/backend';

/**
 * The text of the main registries.conf podman reads (containers-registries.conf(5)): `$CONTAINERS_REGISTRIES_CONF`,
 * else the user's `~/.config/containers/registries.conf` when there is one, else the system's.
 */
async function mainRegistriesConfText(env: NodeJS.ProcessEnv): Promise<string> {
  const candidates = env.CONTAINERS_REGISTRIES_CONF
    ? [env.CONTAINERS_REGISTRIES_CONF]
    : [
        path.join(env.HOME || os.homedir(), '.config/containers/registries.conf'),
        '/etc/containers/registries.conf',
      ];
  for (const file of candidates) {
    try {
      return await readFile(file, 'utf8');
    } catch {
      // not there: the next one, as podman does
    }
  }
  return '';
}

/**
 * A registries.conf for one podman command in which these plain-http hosts are `insecure = true`: the
 * main file podman would read, as it is, with a `[[registry]]` table added for each host that has none
 * yet (one the user configured keeps the user's settings). For a build that pulls from a plain-http
 * registry and a TLS one at once, where `--tls-verify=false` would turn verification off for both.
 * The system's drop-ins in registries.conf.d still apply after it.
 *
 * Undefined when there is nothing to add, when the main file is in the version 1 format
 * (`[registries.insecure]`), which a `[[registry]]` table cannot be mixed with, or when it is not TOML
 * at all (podman then reports it itself).
 */
export async function registriesConfWithInsecure(
  env: NodeJS.ProcessEnv,
  hosts: string[],
  into: string,
): Promise<string | undefined> {
  const text = await mainRegistriesConfText(env);
  // smol-toml only for such a build: most builds never need it.
  const { parse } = await import('smol-toml');
  let config: Record<string, unknown>;
  try {
    config = parse(text);
  } catch {
    return undefined;
  }
  if (isRecord(config.registries)) return undefined;
  const configured = new Set(
    (Array.isArray(config.registry) ? config.registry : [])
      .filter(isRecord)
      .map((entry) => entry.prefix ?? entry.location),
  );
  const added = hosts.filter((host) => !configured.has(host));
  if (added.length === 0) return undefined;
  const tables = added.map((host) => `[[registry]]\nlocation = ${JSON.stringify(host)}\ninsecure = true\n`);
  const file = path.join(into, 'registries.conf');
  await writeFile(
    file,
    `${text}\n\n# Added by zenbuild for this build: plain-http registries.\n${tables.join('\n')}`,
  );
  return file;
}
