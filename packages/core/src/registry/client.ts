import path from 'node:path';
import { invalidInput, notAvailable } from '../errors.js';
import { parseImageReference } from '../naming/reference.js';
import {
  type HttpRequestError,
  type HttpRequestOptions,
  type HttpResponse,
  httpRequest,
} from '../util/http-request.js';
import { certsDirectories, type RegistryTls, registryTls } from './certs-d.js';
import {
  type CredentialHelperRunner,
  dockerConfigCredentials,
  isDockerHub,
  type RegistryCredentials,
  type ResolvedCredentials,
} from './credentials.js';
import { isPlainHttpRegistry } from './plain-http.js';

/** Every manifest type zenbuild can meet; without them registry 2.x answers with schema 1 and another digest. */
export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export interface ImageLocation {
  /** Host (with port) the registry API is served on. */
  host: string;
  repository: string;
  /** Tag or digest. */
  reference: string;
}

/** Splits an image reference into registry host, repository and tag/digest, with Docker Hub's defaults. */
export function locateImage(image: string): ImageLocation {
  const parsed = parseImageReference(image);
  if (!parsed) throw invalidInput(`\`${image}\` is not a valid image reference.`);
  const domain = parsed.domain ?? 'docker.io';
  const hub = isDockerHub(domain);
  const repository = hub && !parsed.path.includes('/') ? `library/${parsed.path}` : parsed.path;
  return {
    host: hub ? 'registry-1.docker.io' : domain,
    repository,
    reference: parsed.digest ?? parsed.tag ?? 'latest',
  };
}

export interface RegistryClientOptions {
  env?: NodeJS.ProcessEnv;
  /** Credentials that win over the docker config, per registry host (the stack registry's). */
  credentials?: Record<string, RegistryCredentials>;
  /** Hosts spoken to over plain http; loopback hosts always are, as Docker does. */
  insecureHosts?: string[];
  helperRunner?: CredentialHelperRunner;
  timeoutMs?: number;
  /**
   * Whether the engine that builds treats a host as an insecure registry (`ContainerEngine.insecureRegistry`).
   * Asked once per host when https to it fails as it fails for an insecure registry (the server speaks
   * plain http, or its certificate is not trusted); when it does, the client speaks to the host as the
   * engine does: https without verifying the certificate, or plain http.
   */
  engineInsecure?: (host: string) => Promise<boolean>;
  /** Where a registry's own CA and client certificate are looked for (default: `certsDirectories`). */
  certsDirectories?: string[];
}

/** How a host the engine treats as insecure is spoken to, once https with verification failed. */
type InsecureMode = 'unverified' | 'http';

/** node's codes for a certificate that does not verify. */
const UNTRUSTED_CERTIFICATE = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** What a failed https request says about the server: it speaks plain http, or its certificate is untrusted. */
function tlsFailure(error: unknown): InsecureMode | undefined {
  const { code, message } = error as HttpRequestError;
  if (/wrong version number/i.test(message ?? '')) return 'http';
  if (code && UNTRUSTED_CERTIFICATE.has(code)) return 'unverified';
  return undefined;
}

interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>;
}

/**
 * A small OCI distribution client: just what reuse needs (does a manifest exist, and what is its
 * digest), with basic and bearer-token auth from the stack registry or the docker config.
 */
export class RegistryClient {
  readonly #env: NodeJS.ProcessEnv;
  readonly #explicit: Record<string, RegistryCredentials>;
  readonly #insecure: Set<string>;
  readonly #helperRunner: CredentialHelperRunner | undefined;
  readonly #timeoutMs: number;
  readonly #engineInsecure: ((host: string) => Promise<boolean>) | undefined;
  /** The engine's answer per host, asked once. */
  readonly #engineAnswers = new Map<string, Promise<boolean>>();
  /** Hosts spoken to as the engine does, after https with verification failed. */
  readonly #insecureModes = new Map<string, InsecureMode>();
  readonly #certsDirectories: string[];
  /** Each https host's certs.d material, read once. */
  readonly #tls = new Map<string, Promise<HttpRequestOptions['tls']>>();
  /** Authorization header per host and repository, reused across requests. */
  readonly #authorization = new Map<string, string>();

  constructor(options: RegistryClientOptions = {}) {
    this.#env = options.env ?? process.env;
    this.#explicit = options.credentials ?? {};
    this.#insecure = new Set(options.insecureHosts ?? []);
    this.#helperRunner = options.helperRunner;
    this.#timeoutMs = options.timeoutMs ?? 15_000;
    this.#engineInsecure = options.engineInsecure;
    this.#certsDirectories = options.certsDirectories ?? certsDirectories(this.#env);
  }

  /** The manifest digest the registry holds for an image (`sha256:...`), or undefined when it has none. */
  async manifestDigest(image: string): Promise<string | undefined> {
    const location = locateImage(image);
    const response = await this.#request(
      location,
      'HEAD',
      `/v2/${location.repository}/manifests/${location.reference}`,
      {
        accept: MANIFEST_ACCEPT,
      },
    );
    if (response.status === 404) return undefined;
    if (!response.ok) {
      throw notAvailable(`The registry ${location.host} answered ${response.status} for ${image}.`, {
        details: { image, status: response.status },
      });
    }
    const digest = response.header('docker-content-digest');
    if (!digest) throw notAvailable(`The registry ${location.host} did not report a digest for ${image}.`);
    return digest;
  }

  /**
   * Logs in to an image's registry as `docker login` does (`GET /v2/` with the credentials, through the
   * token service when it has one), so that wrong credentials are found before anything is built.
   */
  async checkLogin(image: string): Promise<void> {
    const location = locateImage(image);
    const response = await this.#request(location, 'GET', '/v2/', {});
    if (!response.ok) {
      throw notAvailable(`The registry ${location.host} answered ${response.status} to a login.`, {
        details: { host: location.host, status: response.status },
      });
    }
  }

  async exists(image: string): Promise<boolean> {
    return (await this.manifestDigest(image)) !== undefined;
  }

  baseUrl(host: string): string {
    return `${this.#isInsecure(host) ? 'http' : 'https'}://${host}`;
  }

  #isInsecure(host: string): boolean {
    return this.#insecure.has(host) || isPlainHttpRegistry(host, this.#env);
  }

  async #request(
    location: ImageLocation,
    method: string,
    urlPath: string,
    headers: Record<string, string>,
  ): Promise<HttpResponse> {
    const key = `${location.host}/${location.repository}`;
    const send = (authorization?: string) =>
      this.#fetch(`${this.baseUrl(location.host)}${urlPath}`, location.host, {
        method,
        headers: { ...headers, ...(authorization ? { authorization } : {}) },
      });
    let response = await send(this.#authorization.get(key));
    if (response.status !== 401) return response;

    const challenge = parseChallenge(response.header('www-authenticate'));
    const credentials = await this.#credentials(location.host);
    const authorization = await this.#authorize(location, challenge, credentials);
    response = await send(authorization);
    if (response.status === 401 || response.status === 403) {
      throw notAvailable(
        credentials
          ? `The registry ${location.host} refused the credentials from ${credentials.source} for ${location.repository}: check the user name and password.`
          : `The registry ${location.host} needs credentials for ${location.repository}: give the stack registry \`credentials\`, or log in with \`docker login ${location.host}\`.`,
        { details: { host: location.host, status: response.status } },
      );
    }
    this.#authorization.set(key, authorization);
    return response;
  }

  async #authorize(
    location: ImageLocation,
    challenge: Challenge | undefined,
    credentials: ResolvedCredentials | undefined,
  ): Promise<string> {
    if (!challenge || challenge.scheme === 'basic') {
      if (!credentials) {
        throw notAvailable(
          `The registry ${location.host} needs credentials for ${location.repository}: give the stack registry \`credentials\`, or log in with \`docker login ${location.host}\`.`,
        );
      }
      if (credentials.identityToken) {
        throw notAvailable(
          `The registry ${location.host} asks for a password, but ${credentials.source} holds an identity token, which only token auth can use: log in again with \`docker login ${location.host}\`, or give the stack registry \`credentials\`.`,
        );
      }
      return basicAuthorization(credentials);
    }
    const realm = challenge.params.realm;
    if (!realm)
      throw notAvailable(
        `The registry ${location.host} asked for a bearer token without saying where to get one.`,
      );
    const url = new URL(realm);
    const scope = challenge.params.scope ?? `repository:${location.repository}:pull`;
    const tokenResponse = credentials?.identityToken
      ? // The distribution spec's OAuth2 flow: the identity token is a refresh token, posted as a form.
        await this.#fetch(url.toString(), url.host, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'refresh_token',
            refresh_token: credentials.identityToken,
            client_id: 'zenbuild',
            scope,
            ...(challenge.params.service ? { service: challenge.params.service } : {}),
          }).toString(),
        })
      : await this.#fetch(tokenUrl(url, challenge.params.service, scope), url.host, {
          headers: credentials
            ? {
                authorization: basicAuthorization(credentials),
              }
            : {},
        });
    if (!tokenResponse.ok) {
      throw notAvailable(
        `The token service of ${location.host} (${url.origin}) answered ${tokenResponse.status}${credentials ? ` for the credentials from ${credentials.source}` : ' to an anonymous request'}.`,
      );
    }
    let body: { token?: string; access_token?: string } | undefined;
    try {
      body = JSON.parse(tokenResponse.text);
    } catch {
      body = undefined;
    }
    const token = body?.token ?? body?.access_token;
    if (!token) throw notAvailable(`The token service of ${location.host} returned no token.`);
    return `Bearer ${token}`;
  }

  /** The host's CA and client certificate from certs.d, added to the system's CAs. */
  #tlsFor(host: string): Promise<HttpRequestOptions['tls']> {
    let tls = this.#tls.get(host);
    if (!tls) {
      tls = registryTls(host, this.#certsDirectories).then(
        async (found) => (found ? withSystemCas(found) : undefined),
        (error: Error) => {
          throw notAvailable(`The certificates for registry ${host} cannot be read: ${error.message}.`);
        },
      );
      this.#tls.set(host, tls);
    }
    return tls;
  }

  #engineTreatsAsInsecure(host: string): Promise<boolean> {
    if (!this.#engineInsecure) return Promise.resolve(false);
    let answer = this.#engineAnswers.get(host);
    if (!answer) {
      answer = this.#engineInsecure(host).catch(() => false);
      this.#engineAnswers.set(host, answer);
    }
    return answer;
  }

  async #credentials(host: string): Promise<(RegistryCredentials & { source: string }) | undefined> {
    const explicit = this.#explicit[host];
    if (explicit) return { ...explicit, source: 'the stack registry credentials' };
    return dockerConfigCredentials(host, this.#env, this.#helperRunner);
  }

  async #fetch(
    url: string,
    host: string,
    init: { method?: string; headers: Record<string, string>; body?: string },
  ): Promise<HttpResponse> {
    const mode = this.#insecureModes.get(host);
    const target = mode === 'http' ? url.replace(/^https:/, 'http:') : url;
    const tls = target.startsWith('https:') ? await this.#tlsFor(host) : undefined;
    try {
      return await httpRequest(target, {
        ...init,
        timeoutMs: this.#timeoutMs,
        ...(mode === 'unverified' ? { tls: { ...tls, rejectUnauthorized: false } } : tls ? { tls } : {}),
      });
    } catch (error) {
      const code = (error as HttpRequestError).code;
      const failure = target.startsWith('https:') ? tlsFailure(error) : undefined;
      // As dockerd does for an insecure registry: https without verification, then plain http.
      if (failure && mode !== 'http' && mode !== failure && (await this.#engineTreatsAsInsecure(host))) {
        this.#insecureModes.set(host, failure);
        return this.#fetch(url, host, init);
      }
      const engineConfig =
        "the docker daemon's `insecure-registries` or podman's registries.conf (`insecure = true`)";
      let hint = '';
      if (failure === 'http') {
        hint = this.#engineInsecure
          ? ` It answers in plain http, not https, and the engine does not treat it as an insecure registry: add it to ${engineConfig}, or list it in ZENBUILD_INSECURE_REGISTRIES=${host}.`
          : ` It answers in plain http, not https: if it is an insecure registry (the docker daemon's \`insecure-registries\`), list it in ZENBUILD_INSECURE_REGISTRIES=${host}.`;
      } else if (failure === 'unverified') {
        hint = ` Its TLS certificate is not trusted: put its CA in ${path.join(this.#certsDirectories.at(-1) ?? '/etc/docker/certs.d', host, 'ca.crt')} (where docker and podman read it too), or, if it is an insecure registry, add it to ${engineConfig}${this.#engineInsecure ? ' (the engine does not treat it as one now)' : ''}.`;
      }
      throw notAvailable(
        `The registry ${host} cannot be reached (${code ?? (error as Error).message}).${hint}`,
        { cause: error, details: { host } },
      );
    }
  }
}

/** node's `ca` replaces the system's CAs: certs.d's come on top of them, as in the engines. */
async function withSystemCas(found: RegistryTls): Promise<HttpRequestOptions['tls']> {
  const { rootCertificates } = await import('node:tls');
  return {
    ...(found.ca.length > 0 ? { ca: [...rootCertificates, ...found.ca] } : {}),
    ...(found.cert && found.key ? { cert: found.cert, key: found.key } : {}),
  };
}

function basicAuthorization({ username, password }: RegistryCredentials): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** The realm's URL with the service and scope asked for, as the token GET of the distribution spec takes them. */
function tokenUrl(realm: URL, service: string | undefined, scope: string): string {
  const url = new URL(realm);
  if (service) url.searchParams.set('service', service);
  url.searchParams.set('scope', scope);
  return url.toString();
}

/** Parses `Bearer realm="...",service="...",scope="..."` or `Basic realm="..."`. */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined;
  const match = /^\s*(\w+)\s*(.*)$/.exec(header);
  if (!match) return undefined;
  const scheme = match[1]?.toLowerCase();
  if (scheme !== 'basic' && scheme !== 'bearer') return undefined;
  const params: Record<string, string> = {};
  for (const [, key, quoted, bare] of (match[2] ?? '').matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)) {
    if (key) params[key.toLowerCase()] = quoted ?? bare ?? '';
  }
  return { scheme, params };
}
