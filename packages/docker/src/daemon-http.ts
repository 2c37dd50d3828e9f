import http from 'node:http';
import type https from 'node:https';
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
 * GETs a JSON document from the Docker Engine API with node's own http client. Used for the read-only
 * calls every run makes (version, image inspect), so that a run that builds nothing (a reuse hit, an
 * engine check) does not load dockerode (about 50 ms to import even with ssh2 and grpc-js deferred:
 * load-dockerode.ts). Builds, pushes and logins go through dockerode.
 */
export async function getDaemonJson<T>(
  connection: DockerConnection,
  apiPath: string,
  timeoutMs = 5000,
): Promise<T> {
  const { socketPath, host, port, protocol, ca, cert, key } = connection.options;
  const tls = protocol === 'https';
  // https (and tls under it) only for a TLS daemon: the socket and plain tcp never load them.
  const client = tls ? await import('node:https') : http;
  const request = client.request({
    method: 'GET',
    path: apiPath,
    headers: { accept: 'application/json' },
    ...(socketPath ? { socketPath } : { host, port }),
    // Without TLS there is no server name to send; an empty one spares node's agent working it out,
    // which compiles its IPv6 regex on first use (about 5 ms of every run).
    ...(tls ? { ca, cert, key } : { servername: '' }),
  } as https.RequestOptions);
  return new Promise<T>((resolve, reject) => {
    request.setTimeout(timeoutMs, () => request.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    request.on('error', reject);
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        const status = response.statusCode ?? 0;
        if (status >= 200 && status < 300 && json !== undefined) resolve(json as T);
        else
          reject(
            new DaemonHttpError(
              status,
              (json as { message?: string }) ?? { message: text.trim() || undefined },
            ),
          );
      });
    });
    request.end();
  });
}

/** An image reference as a path segment: `/`, `:` and `@` stay (the API's route takes them), the rest is escaped. */
export function imagePath(image: string): string {
  return `/images/${encodeURIComponent(image).replace(/%2F/g, '/').replace(/%3A/g, ':').replace(/%40/g, '@')}/json`;
}
