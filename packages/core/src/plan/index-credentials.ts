import { invalidInput } from '../errors.js';
import { decodeUrlPart, URL_WITH_CREDENTIALS } from '../util/url-credentials.js';

/** The build secret the generated Dockerfile's installs read their index credentials from. */
export const INDEX_NETRC_SECRET = 'zenbuild_index_netrc';
/** Where BuildKit and buildah mount a secret by default (`/run/secrets/<id>`). */
export const INDEX_NETRC_PATH = `/run/secrets/${INDEX_NETRC_SECRET}`;

export interface IndexCredential {
  host: string;
  login: string;
  password: string;
}

/**
 * Index credentials found in installer arguments and requirements, taken out of the text that goes into
 * the Dockerfile, the plan, the record and the checksum. pip and uv then read them from a netrc file
 * mounted as a build secret (both honour `NETRC`), so a token is in no layer, history or output, and
 * changing it rebuilds nothing.
 */
export class IndexCredentials {
  readonly #byHost = new Map<string, IndexCredential>();

  /** `text` without the credentials of its URLs, which are kept here; `where` names the field for errors. */
  take(text: string, where: string): string {
    return text.replace(
      URL_WITH_CREDENTIALS,
      (match: string, scheme: string, user: string, password: string, host: string) => {
        // An index is reached over http(s); other URLs are not the installers' to log in to.
        if (!/^https?$/i.test(scheme)) return match;
        const credential = {
          host: host.toLowerCase(),
          login: decodeUrlPart(user),
          password: decodeUrlPart(password),
        };
        const known = this.#byHost.get(credential.host);
        if (known && (known.login !== credential.login || known.password !== credential.password)) {
          throw invalidInput(
            `${where}: two different credentials for the index host ${credential.host}; a build can give an index host one login.`,
          );
        }
        this.#byHost.set(credential.host, credential);
        return `${scheme}://${host}`;
      },
    );
  }

  get hosts(): string[] {
    return [...this.#byHost.keys()];
  }

  get size(): number {
    return this.#byHost.size;
  }

  /** The netrc file pip and uv read (one `machine` line per host). */
  netrc(): string {
    return [...this.#byHost.values()]
      .map(({ host, login, password }) => `machine ${host} login ${login} password ${password}\n`)
      .join('');
  }
}
