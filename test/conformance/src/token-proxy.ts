import { randomBytes } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A registry front that speaks the bearer-token flow of the distribution spec (as Docker Hub, GHCR and
 * ECR do): 401 with a `Bearer realm=...` challenge, a token endpoint that checks basic credentials,
 * then the request (a pull or a whole push) is passed to a real registry. Lets tests prove the client's token handling. With
 * `refreshToken`, the token endpoint also takes the spec's OAuth2 form (a POST with
 * `grant_type=refresh_token`), as Azure Container Registry does for the identity tokens `docker login`
 * stores, and answers with an `access_token`.
 */
export async function startTokenProxy(
  upstream: string,
  credentials?: { username: string; password: string },
  refreshToken?: string,
): Promise<{ host: string; tokenRequests: string[]; close: () => Promise<void> }> {
  const tokens = new Set<string>();
  const tokenRequests: string[] = [];
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    if (url.pathname === '/token' && req.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      tokenRequests.push(`POST ${form.get('grant_type')} ${form.get('service')} ${form.get('scope')}`);
      const valid =
        refreshToken !== undefined &&
        form.get('grant_type') === 'refresh_token' &&
        form.get('refresh_token') === refreshToken &&
        Boolean(form.get('client_id')) &&
        req.headers['content-type'] === 'application/x-www-form-urlencoded';
      if (!valid) {
        res.writeHead(401).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
        return;
      }
      const token = randomBytes(12).toString('hex');
      tokens.add(token);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: token }));
      return;
    }
    if (url.pathname === '/token') {
      tokenRequests.push(`${url.searchParams.get('service')} ${url.searchParams.get('scope')}`);
      const expected = credentials
        ? `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`
        : undefined;
      // A registry that hands out identity tokens takes only those: no anonymous token.
      if ((expected && req.headers.authorization !== expected) || (!expected && refreshToken !== undefined)) {
        res.writeHead(401).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
        return;
      }
      const token = randomBytes(12).toString('hex');
      tokens.add(token);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token }));
      return;
    }
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!bearer || !tokens.has(bearer)) {
      const repository = /^\/v2\/(.+)\/manifests\//.exec(url.pathname)?.[1] ?? '';
      const address = server.address() as AddressInfo;
      res
        .writeHead(401, {
          'www-authenticate': `Bearer realm="http://127.0.0.1:${address.port}/token",service="zenbuild-test",scope="repository:${repository}:pull"`,
        })
        .end();
      return;
    }
    // Passed on as it came, body and Host header included (the registry makes its upload URLs from the
    // Host header, so they point back here), less the token the registry does not know.
    const { authorization: _, ...headers } = req.headers;
    const [upstreamHost, upstreamPort] = upstream.split(':');
    const forwarded = request(
      { host: upstreamHost, port: Number(upstreamPort), method: req.method, path: req.url, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forwarded.on('error', () => res.destroy());
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    tokenRequests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
