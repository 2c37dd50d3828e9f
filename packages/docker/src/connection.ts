import { readFileSync } from 'node:fs';
import path from 'node:path';
import { invalidInput } from '@zenbuild/core';
import type Docker from 'dockerode';

export interface DockerConnection {
  options: Docker.DockerOptions;
  /** Which daemon and why, for `zenbuild engine` and error messages. */
  description: string;
}

export const DEFAULT_SOCKET = '/var/run/docker.sock';

/**
 * Where the Docker daemon is: `DOCKER_HOST` (unix:// or tcp://, TLS with `DOCKER_TLS_VERIFY` and
 * `DOCKER_CERT_PATH`), else the default socket.
 */
export function dockerConnection(env: NodeJS.ProcessEnv = process.env): DockerConnection {
  const host = env.DOCKER_HOST?.trim();
  if (!host)
    return {
      options: { socketPath: DEFAULT_SOCKET },
      description: `unix://${DEFAULT_SOCKET} (the default socket)`,
    };
  let url: URL;
  try {
    url = new URL(host);
  } catch {
    throw invalidInput(
      `DOCKER_HOST=${host} is not a URL such as unix:///var/run/docker.sock or tcp://host:2376.`,
    );
  }
  if (url.protocol === 'unix:') {
    return { options: { socketPath: url.pathname }, description: `${host} (DOCKER_HOST)` };
  }
  if (url.protocol === 'tcp:' || url.protocol === 'http:' || url.protocol === 'https:') {
    // Any non-empty value turns TLS on, `0` too: that is how the docker CLI (and compose) read it, so the
    // API engine and the CLI mode reach the same daemon the same way from one environment.
    const tls = Boolean(env.DOCKER_TLS_VERIFY) || url.protocol === 'https:';
    const options: Docker.DockerOptions = {
      host: url.hostname,
      port: url.port ? Number(url.port) : tls ? 2376 : 2375,
      protocol: tls ? 'https' : 'http',
    };
    if (tls) {
      const certPath = env.DOCKER_CERT_PATH ?? path.join(env.HOME ?? '', '.docker');
      try {
        options.ca = readFileSync(path.join(certPath, 'ca.pem'));
        options.cert = readFileSync(path.join(certPath, 'cert.pem'));
        options.key = readFileSync(path.join(certPath, 'key.pem'));
      } catch (error) {
        throw invalidInput(
          `DOCKER_TLS_VERIFY is set but the TLS files in ${certPath} (ca.pem, cert.pem, key.pem) cannot be read: ${(error as Error).message}`,
        );
      }
    }
    return { options, description: `${host} (DOCKER_HOST${tls ? ', TLS verified' : ''})` };
  }
  throw invalidInput(
    `DOCKER_HOST=${host}: the ${url.protocol}// scheme is not supported; use unix:// or tcp://.`,
  );
}
