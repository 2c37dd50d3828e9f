import { type HttpRequestOptions, type HttpResponse, httpRequest } from '@zenbuild/core/backend';
import type { DockerConnection } from './connection.js';

/** A non-2xx answer of the Docker Engine API; `statusCode` and `json.message` as dockerode's errors have. */
export class DaemonHttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly json: { message?: string } | undefined,
  ) {
    super(json?.message ?? `the daemon answered HTTP ${statusCode}`);
  }
}

/**
 * One request to the Docker Engine API with node's own http client. Used for the calls every run makes
 * (version, ping, image inspect), so that a run that builds nothing (a reuse hit, an engine check) does
 * not load dockerode (about 50 ms to import even with ssh2 and grpc-js deferred: load-dockerode.ts).
 * Builds, pushes and logins go through dockerode.
 */
export async function daemonRequest(
  connection: DockerConnection,
  apiPath: string,
  { method = 'GET', timeoutMs = 5000 }: { method?: string; timeoutMs?: number } = {},
): Promise<HttpResponse> {
  const { socketPath, host, port, protocol, ca, cert, key } = connection.options;
  const tls = protocol === 'https';
  // On a socket the URL's host is only a name; node's client speaks to the socket.
  const origin = socketPath
    ? 'http://localhost'
    : `${tls ? 'https' : 'http'}://${formatHost(String(host))}:${port}`;
  return httpRequest(`${origin}${apiPath}`, {
    method,
    headers: { accept: 'application/json' },
    timeoutMs,
    ...(socketPath ? { socketPath } : {}),
    ...(tls ? { tls: { ca, cert, key } as HttpRequestOptions['tls'] } : {}),
  });
}

/** GETs a JSON document from the Docker Engine API (see daemonRequest). */
export async function getDaemonJson<T>(
  connection: DockerConnection,
  apiPath: string,
  timeoutMs = 5000,
): Promise<T> {
  const response = await daemonRequest(connection, apiPath, { timeoutMs });
  let json: unknown;
  try {
    json = response.text ? JSON.parse(response.text) : undefined;
  } catch {
    json = undefined;
  }
  if (response.ok && json !== undefined) return json as T;
  throw new DaemonHttpError(
    response.status,
    (json as { message?: string }) ?? { message: response.text.trim() || undefined },
  );
}

/** A host for a URL: an IPv6 address in brackets. */
function formatHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** An image reference as a path segment: `/`, `:` and `@` stay (the API's route takes them), the rest is escaped. */
export function imagePath(image: string): string {
  return `/images/${encodeURIComponent(image).replace(/%2F/g, '/').replace(/%3A/g, ':').replace(/%40/g, '@')}/json`;
}
