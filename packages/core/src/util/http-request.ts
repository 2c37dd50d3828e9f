import http from 'node:http';
import type https from 'node:https';

export interface HttpRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  /** The whole exchange, redirects included. */
  timeoutMs: number;
  /** A unix socket to speak http on (the Docker daemon's); the URL's host is then only a name. */
  socketPath?: string;
  /** TLS material for an https URL: a private CA, a client certificate; or no verification at all. */
  tls?: Pick<https.RequestOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized'>;
  /** Redirects followed, as fetch follows them (default 5). */
  maxRedirects?: number;
  /** Sent as it is (set its content-type in `headers`); not sent again after a 303. */
  body?: string;
}

export interface HttpResponse {
  status: number;
  ok: boolean;
  /** A response header, case-insensitively. */
  header(name: string): string | undefined;
  text: string;
}

/** Why a request got no answer; `code` is node's (`ECONNREFUSED`, `ERR_SSL_WRONG_VERSION_NUMBER`, …). */
export class HttpRequestError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

const MAX_BODY = 4 * 1024 * 1024;

/**
 * One request with node's own http client, its answer read whole. Not `fetch`: on Node 20 a process that
 * used fetch loads undici (about 25 ms) and then stays up about 65 ms after its last response, and the
 * registry and daemon queries are on every run's path, the reuse hits' included.
 */
export async function httpRequest(url: string, options: HttpRequestOptions): Promise<HttpResponse> {
  const deadline = Date.now() + options.timeoutMs;
  let target = new URL(url);
  let headers = { ...(options.headers ?? {}) };
  let method = options.method ?? 'GET';
  let body = options.body;
  for (let redirects = 0; ; redirects++) {
    const response = await once(target, { ...options, method, headers, body }, deadline - Date.now());
    const location = response.header('location');
    if (!location || ![301, 302, 303, 307, 308].includes(response.status)) return response;
    if (redirects >= (options.maxRedirects ?? 5)) {
      throw new HttpRequestError(`too many redirects from ${url}`, 'ERR_TOO_MANY_REDIRECTS');
    }
    const next = new URL(location, target);
    // As fetch does: credentials are not sent on to another origin.
    if (next.origin !== target.origin) {
      headers = Object.fromEntries(
        Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'authorization'),
      );
    }
    target = next;
    // A 303 (and, as browsers do, a 301 or 302 of a POST) is followed with a GET and no body.
    if (
      response.status === 303 ||
      ((response.status === 301 || response.status === 302) && method === 'POST')
    ) {
      method = 'GET';
      body = undefined;
    }
  }
}

async function once(url: URL, options: HttpRequestOptions, timeoutMs: number): Promise<HttpResponse> {
  const secure = url.protocol === 'https:';
  // https (and tls under it) only when needed: a plain registry or socket never loads them.
  const client = secure ? await import('node:https') : http;
  return new Promise((resolve, reject) => {
    const request = client.request(url, {
      method: options.method ?? 'GET',
      headers: options.headers,
      ...(options.socketPath ? { socketPath: options.socketPath } : {}),
      // Without TLS there is no server name to send; an empty one spares node's agent working it out,
      // which compiles its IPv6 regex on first use (about 5 ms of every run).
      ...(secure ? (options.tls ?? {}) : { servername: '' }),
    } as https.RequestOptions);
    const fail = (error: NodeJS.ErrnoException) =>
      reject(error instanceof HttpRequestError ? error : new HttpRequestError(error.message, error.code));
    const timer = setTimeout(
      () =>
        request.destroy(new HttpRequestError(`no answer within ${options.timeoutMs / 1000} s`, 'ETIMEDOUT')),
      Math.max(0, timeoutMs),
    );
    request.on('error', (error) => {
      clearTimeout(timer);
      fail(error);
    });
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY)
          request.destroy(new HttpRequestError(`the answer of ${url.host} is too large`, 'E2BIG'));
        else chunks.push(chunk);
      });
      response.on('error', fail);
      response.on('end', () => {
        clearTimeout(timer);
        const status = response.statusCode ?? 0;
        resolve({
          status,
          ok: status >= 200 && status < 300,
          header: (name) => {
            const value = response.headers[name.toLowerCase()];
            return Array.isArray(value) ? value.join(', ') : value;
          },
          text: Buffer.concat(chunks).toString('utf8'),
        });
      });
    });
    request.end(options.body);
  });
}
