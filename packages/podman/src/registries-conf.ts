import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * The main registries.conf podman reads (containers-registries.conf(5)): `$CONTAINERS_REGISTRIES_CONF`,
 * else the user's `~/.config/containers/registries.conf` when there is one, else the system's.
 */
export async function mainRegistriesConf(env: NodeJS.ProcessEnv): Promise<{ file: string; text: string }> {
  const candidates = env.CONTAINERS_REGISTRIES_CONF
    ? [env.CONTAINERS_REGISTRIES_CONF]
    : [
        path.join(env.HOME || os.homedir(), '.config/containers/registries.conf'),
        '/etc/containers/registries.conf',
      ];
  for (const file of candidates) {
    try {
      return { file, text: await readFile(file, 'utf8') };
    } catch {
      // not there: the next one, as podman does
    }
  }
  return { file: candidates.at(-1) as string, text: '' };
}

/**
 * A registries.conf for one podman command in which these plain-http hosts are `insecure = true`: the
 * main file podman would read, as it is, with a `[[registry]]` table added for each host it does not
 * mention yet (one it mentions keeps the user's own settings). For a build that pulls from a plain-http
 * registry and a TLS one at once, where `--tls-verify=false` would turn verification off for both.
 * The system's drop-ins in registries.conf.d still apply after it.
 *
 * Undefined when there is nothing to add, or when the main file is in the version 1 format
 * (`[registries.insecure]`), which a `[[registry]]` table cannot be mixed with.
 */
export async function registriesConfWithInsecure(
  env: NodeJS.ProcessEnv,
  hosts: string[],
  into: string,
): Promise<string | undefined> {
  const { text } = await mainRegistriesConf(env);
  if (/^\s*\[registries\./m.test(text)) return undefined;
  const quoted = (host: string) => text.includes(`"${host}"`) || text.includes(`'${host}'`);
  const added = hosts.filter((host) => !quoted(host));
  if (added.length === 0) return undefined;
  const tables = added.map((host) => `[[registry]]\nlocation = ${JSON.stringify(host)}\ninsecure = true\n`);
  const file = path.join(into, 'registries.conf');
  await writeFile(
    file,
    `${text}\n\n# Added by zenbuild for this build: plain-http registries.\n${tables.join('\n')}`,
  );
  return file;
}
