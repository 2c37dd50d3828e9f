import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { notAvailable } from '../errors.js';
import { isRecord } from '../util/is-record.js';
import { runProgram } from '../util/run-program.js';

export interface RegistryCredentials {
  username: string;
  password: string;
  /**
   * An OAuth2 refresh token instead of a password: what `docker login` stores as `identitytoken` when
   * the registry hands one out (Azure Container Registry does), and what a credential helper returns
   * with the user name `<token>`. Only the bearer-token flow can use it.
   */
  identityToken?: string;
}

/** Where a registry's credentials come from, for messages (never the secret itself). */
export interface ResolvedCredentials extends RegistryCredentials {
  source: string;
}

/** The user name a credential helper answers with when its secret is an identity token. */
const IDENTITY_TOKEN_USER = '<token>';

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

/** The docker config directory: `$DOCKER_CONFIG`, else `~/.docker`. */
export function dockerConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_CONFIG ? path.resolve(env.DOCKER_CONFIG) : path.join(os.homedir(), '.docker');
}

/**
 * The docker config file (`config.json` in `dockerConfigDir`) as the docker CLI reads it: none is an
 * empty config; one that cannot be read or is not a JSON object is an error naming the file, as it is
 * for the CLI. `file` is its path, for messages.
 */
export async function readDockerConfig(
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ file: string; config: Record<string, unknown> }> {
  const file = path.join(dockerConfigDir(env), 'config.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { file, config: {} };
    throw notAvailable(`The docker config ${file} cannot be read: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!isRecord(parsed))
    throw notAvailable(
      `The docker config ${file} is not a JSON object; the docker CLI cannot read it either.`,
    );
  return { file, config: parsed };
}

/** Runs a credential helper (`docker-credential-<name> get`), the way the docker CLI does. */
export type CredentialHelperRunner = (
  helper: string,
  serverUrl: string,
  env: NodeJS.ProcessEnv,
) => Promise<string>;

const runHelper: CredentialHelperRunner = (helper, serverUrl, env) =>
  runProgram(`docker-credential-${helper}`, ['get'], { timeout: 30_000, env, input: serverUrl });

/**
 * Credentials for a registry host from the docker config file, as the docker CLI finds them:
 * `credHelpers[host]`, then `credsStore`, then `auths`. Missing config or no entry means anonymous.
 */
export async function dockerConfigCredentials(
  host: string,
  env: NodeJS.ProcessEnv = process.env,
  helperRunner: CredentialHelperRunner = runHelper,
): Promise<ResolvedCredentials | undefined> {
  const { file, config: read } = await readDockerConfig(env);
  const config = read as DockerConfig;
  const serverUrl = isDockerHub(host) ? DOCKER_HUB_AUTH_KEY : host;
  const helper = config.credHelpers?.[host] ?? config.credsStore;
  if (helper) {
    const fromHelper = await fromCredentialHelper(helper, serverUrl, env, helperRunner);
    if (fromHelper || config.credHelpers?.[host]) return fromHelper;
  }
  const entry = Object.entries(config.auths ?? {}).find(
    ([key]) => normaliseAuthKey(key) === normaliseAuthKey(serverUrl),
  )?.[1];
  if (!entry) return undefined;
  // `auth` is base64 of `user:password`; next to an identity token, the password is empty.
  const decoded = entry.auth ? Buffer.from(entry.auth, 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  if (entry.identitytoken) {
    return {
      username: (colon >= 0 ? decoded.slice(0, colon) : decoded) || entry.username || IDENTITY_TOKEN_USER,
      password: '',
      identityToken: entry.identitytoken,
      source: `${file} (auths, identity token)`,
    };
  }
  if (colon > 0) {
    return {
      username: decoded.slice(0, colon),
      password: decoded.slice(colon + 1),
      source: `${file} (auths)`,
    };
  }
  if (entry.username && entry.password)
    return { username: entry.username, password: entry.password, source: `${file} (auths)` };
  return undefined;
}

async function fromCredentialHelper(
  helper: string,
  serverUrl: string,
  env: NodeJS.ProcessEnv,
  runner: CredentialHelperRunner,
): Promise<ResolvedCredentials | undefined> {
  let output: string;
  try {
    output = await runner(helper, serverUrl, env);
  } catch (error) {
    const e = error as { code?: string; stdout?: string; stderr?: string; message?: string };
    // The helper protocol answers "credentials not found in native keychain" for unknown servers.
    if (/not found/i.test(`${e.stdout ?? ''}${e.stderr ?? ''}`)) return undefined;
    if (e.code === 'ENOENT') {
      throw notAvailable(
        `The docker config names the credential helper \`${helper}\`, but docker-credential-${helper} is not on PATH.`,
      );
    }
    throw notAvailable(
      `The credential helper docker-credential-${helper} failed: ${(e.stderr || e.message || '').trim()}`,
    );
  }
  const parsed = JSON.parse(output) as { Username?: string; Secret?: string };
  if (!parsed.Username || !parsed.Secret) return undefined;
  if (parsed.Username === IDENTITY_TOKEN_USER) {
    return {
      username: IDENTITY_TOKEN_USER,
      password: '',
      identityToken: parsed.Secret,
      source: `credential helper docker-credential-${helper} (identity token)`,
    };
  }
  return {
    username: parsed.Username,
    password: parsed.Secret,
    source: `credential helper docker-credential-${helper}`,
  };
}

function normaliseAuthKey(key: string): string {
  return key
    .replace(/^https?:\/\//, '')
    .replace(/\/v[12]\/?$/, '')
    .replace(/\/+$/, '');
}

export function isDockerHub(host: string): boolean {
  return host === 'docker.io' || host === 'index.docker.io' || host === 'registry-1.docker.io';
}
