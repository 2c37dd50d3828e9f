import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { dockerConfigDir, invalidInput } from '@zenbuild/core/backend';
import type Docker from 'dockerode';

export interface DockerConnection {
  options: Docker.DockerOptions;
  /** Which daemon and why, for `zenbuild engine` and error messages. */
  description: string;
}

export const DEFAULT_SOCKET = '/var/run/docker.sock';

const TLS_FILES = ['ca.pem', 'cert.pem', 'key.pem'] as const;

/**
 * Where the Docker daemon is, found as the docker CLI finds it: `DOCKER_HOST` (unix:// or tcp://, TLS
 * with `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH`), else the docker context that `DOCKER_CONTEXT` or
 * the docker config's `currentContext` names (Docker Desktop, colima and rootless setups point there),
 * else the default socket.
 */
export function dockerConnection(env: NodeJS.ProcessEnv = process.env): DockerConnection {
  const host = env.DOCKER_HOST?.trim();
  if (host) {
    // Read as the docker CLI (and compose) read them, so the API engine and the CLI mode reach the same
    // daemon the same way from one environment: any non-empty DOCKER_TLS_VERIFY turns TLS on, `0` too,
    // and the files are in DOCKER_CERT_PATH, else the docker config directory.
    const certPath = env.DOCKER_CERT_PATH || dockerConfigDir(env);
    const tls = env.DOCKER_TLS_VERIFY ? { dir: certPath, why: 'DOCKER_TLS_VERIFY is set' } : undefined;
    return hostConnection(host, 'DOCKER_HOST', tls);
  }
  const context = currentContext(env);
  if (context) return contextConnection(context, env);
  return {
    options: { socketPath: DEFAULT_SOCKET },
    description: `unix://${DEFAULT_SOCKET} (the default socket)`,
  };
}

interface TlsFiles {
  dir: string;
  /** Why TLS is used, for the message when the files cannot be read. */
  why: string;
  /** Only the files that are there are used (a context may hold just the CA). */
  partial?: boolean;
}

/** `source` says where the host came from: `DOCKER_HOST`, or `docker context NAME`. */
function hostConnection(host: string, source: string, tls: TlsFiles | undefined): DockerConnection {
  const named = source === 'DOCKER_HOST' ? `DOCKER_HOST=${host}` : `${host} (the host of ${source})`;
  let url: URL;
  try {
    url = new URL(host);
  } catch {
    throw invalidInput(`${named} is not a URL such as unix:///var/run/docker.sock or tcp://host:2376.`);
  }
  if (url.protocol === 'unix:') {
    return { options: { socketPath: url.pathname }, description: `${host} (${source})` };
  }
  if (url.protocol === 'tcp:' || url.protocol === 'http:' || url.protocol === 'https:') {
    const verified = tls !== undefined || url.protocol === 'https:';
    const options: Docker.DockerOptions = {
      host: url.hostname,
      port: url.port ? Number(url.port) : verified ? 2376 : 2375,
      protocol: verified ? 'https' : 'http',
    };
    if (tls) {
      try {
        const read = (file: string) =>
          tls.partial && !existsSync(path.join(tls.dir, file))
            ? undefined
            : readFileSync(path.join(tls.dir, file));
        const [ca, cert, key] = TLS_FILES.map(read);
        if (ca) options.ca = ca;
        if (cert) options.cert = cert;
        if (key) options.key = key;
      } catch (error) {
        throw invalidInput(
          `${tls.why} but the TLS files in ${tls.dir} (${TLS_FILES.join(', ')}) cannot be read: ${(error as Error).message}`,
        );
      }
    }
    return { options, description: `${host} (${source}${verified ? ', TLS verified' : ''})` };
  }
  const cliHint =
    url.protocol === 'ssh:'
      ? ' (or set `use_subprocess_call: true` in the image builder config: the docker CLI connects over ssh itself)'
      : '';
  throw invalidInput(
    `${named}: the ${url.protocol}// scheme is not supported; use unix:// or tcp://${cliHint}.`,
  );
}

interface NamedContext {
  name: string;
  /** Where the name came from, for messages. */
  source: string;
}

/** The docker context in use, as the docker CLI picks it; none for `default` (the socket). */
function currentContext(env: NodeJS.ProcessEnv): NamedContext | undefined {
  const fromEnv = env.DOCKER_CONTEXT?.trim();
  if (fromEnv) return fromEnv === 'default' ? undefined : { name: fromEnv, source: 'DOCKER_CONTEXT' };
  const configFile = path.join(dockerConfigDir(env), 'config.json');
  let config: { currentContext?: unknown };
  try {
    config = JSON.parse(readFileSync(configFile, 'utf8'));
  } catch {
    return undefined; // no config, or one the credential lookup reports when it needs it
  }
  const name = typeof config?.currentContext === 'string' ? config.currentContext.trim() : '';
  return name && name !== 'default' ? { name, source: `currentContext in ${configFile}` } : undefined;
}

/**
 * A context's docker endpoint, from the docker CLI's context store: `contexts/meta/<sha256 of the
 * name>/meta.json`, and its TLS files, when it has them, in `contexts/tls/<same>/docker/`.
 */
function contextConnection(context: NamedContext, env: NodeJS.ProcessEnv): DockerConnection {
  const id = createHash('sha256').update(context.name).digest('hex');
  const store = path.join(dockerConfigDir(env), 'contexts');
  const metaFile = path.join(store, 'meta', id, 'meta.json');
  const label = `docker context \`${context.name}\` (${context.source})`;
  let meta: { Endpoints?: { docker?: { Host?: unknown; SkipTLSVerify?: unknown } } };
  try {
    meta = JSON.parse(readFileSync(metaFile, 'utf8'));
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw invalidInput(
      missing
        ? `The ${label} does not exist: there is no ${metaFile}. \`docker context ls\` lists the contexts; set DOCKER_CONTEXT or DOCKER_HOST to choose a daemon, or ZENML_CONTAINER_ENGINE=podman to build with podman.`
        : `The ${label} cannot be read from ${metaFile}: ${(error as Error).message}`,
    );
  }
  const endpoint = meta?.Endpoints?.docker;
  const host = typeof endpoint?.Host === 'string' ? endpoint.Host : '';
  if (!host) throw invalidInput(`The ${label} has no docker endpoint host in ${metaFile}.`);
  const tlsDir = path.join(store, 'tls', id, 'docker');
  const hasTls = TLS_FILES.some((file) => existsSync(path.join(tlsDir, file)));
  if (hasTls && endpoint?.SkipTLSVerify === true) {
    throw invalidInput(
      `The ${label} skips TLS verification, which zenbuild does not do; create the context with the daemon's CA (\`docker context create --docker "host=${host},ca=...,cert=...,key=..."\`).`,
    );
  }
  const source = `docker context ${context.name}`;
  return hostConnection(
    host,
    source,
    hasTls ? { dir: tlsDir, why: `The ${label} has TLS files`, partial: true } : undefined,
  );
}
