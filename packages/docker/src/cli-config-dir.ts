import { existsSync } from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  type ContainerRegistry,
  DOCKER_HUB_AUTH_KEY,
  dockerConfigDir,
  isDockerHub,
  isRecord,
  readDockerConfig,
  registryHost,
} from '@zenbuild/core/backend';

/**
 * A docker config directory for one CLI run with the stack registry's credentials: the user's
 * config.json with the stack registry's entry put in, and the user's docker contexts linked. The CLI
 * then keeps everything else the user set up (the current context and so the daemon `check()` found,
 * the credentials of every other registry a build pulls from, proxies), and the user's own files are
 * never written. The password goes into a 0600 file, never onto a command line.
 */
export async function writeCliConfig(
  into: string,
  registry: ContainerRegistry & { credentials: NonNullable<ContainerRegistry['credentials']> },
  env: NodeJS.ProcessEnv,
): Promise<string> {
  const userDir = dockerConfigDir(env);
  const { config } = await readDockerConfig(env);
  const host = registryHost(registry);
  const key = isDockerHub(host) ? DOCKER_HUB_AUTH_KEY : host;
  const { username, password } = registry.credentials;
  const auths = isRecord(config.auths) ? config.auths : {};
  auths[key] = { auth: Buffer.from(`${username}:${password}`).toString('base64') };
  config.auths = auths;
  // A credential store (or a helper for this host) would answer for the host before `auths` does; an
  // empty helper name sends the CLI to the file's entry for it.
  if (config.credsStore || (isRecord(config.credHelpers) && key in config.credHelpers)) {
    config.credHelpers = { ...(isRecord(config.credHelpers) ? config.credHelpers : {}), [key]: '' };
  }
  const dir = path.join(into, 'docker-config');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(path.join(dir, 'config.json'), JSON.stringify(config), { mode: 0o600 });
  const contexts = path.join(userDir, 'contexts');
  if (existsSync(contexts)) await symlink(contexts, path.join(dir, 'contexts'));
  return dir;
}
