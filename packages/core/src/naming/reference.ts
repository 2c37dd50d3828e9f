/**
 * Image reference grammar, after distribution's reference package: `[host[:port]/]path[:tag][@digest]`.
 */
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const TAG_PATTERN = '[\\w][\\w.-]{0,127}';
const DIGEST_PATTERN = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,}';
const NAME = `(?:(${DOMAIN})/)?(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)`;

export const TAG = new RegExp(`^${TAG_PATTERN}$`);
export const REPOSITORY_PATH = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const IMAGE_REFERENCE = new RegExp(`^${NAME}(?::(${TAG_PATTERN}))?(?:@(${DIGEST_PATTERN}))?$`);
/** A registry URI as stacks give it: a host (with port) and an optional path. */
export const REGISTRY_URI = new RegExp(`^${DOMAIN}(?:/${PATH_COMPONENT})*$`);

export interface ImageReference {
  /** Registry host (with port), when the reference names one. */
  domain?: string;
  /** Repository path without the domain. */
  path: string;
  tag?: string;
  digest?: string;
}

export function parseImageReference(reference: string): ImageReference | undefined {
  const match = IMAGE_REFERENCE.exec(reference);
  if (!match) return undefined;
  const [, rawDomain, rawPath, tag, digest] = match;
  if (rawPath === undefined) return undefined;
  let domain = rawDomain;
  let path = rawPath;
  // `team/model` has no domain; the first component is a domain only if it looks like a host.
  if (domain !== undefined && !/[.:]/.test(domain) && domain !== 'localhost') {
    path = `${domain}/${path}`;
    domain = undefined;
    // Without a host, the first component follows the (lowercase) path grammar like the rest.
    if (!REPOSITORY_PATH.test(path)) return undefined;
  }
  return {
    path,
    ...(domain ? { domain } : {}),
    ...(tag ? { tag } : {}),
    ...(digest ? { digest } : {}),
  };
}

export function isImageReference(reference: string): boolean {
  return parseImageReference(reference) !== undefined;
}

/** The repository part of a reference (`host:5000/team/model:tag` → `host:5000/team/model`). */
export function repositoryOf(reference: string): string {
  const parsed = parseImageReference(reference);
  if (!parsed) return reference;
  return parsed.domain ? `${parsed.domain}/${parsed.path}` : parsed.path;
}
