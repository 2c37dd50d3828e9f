import { locateImage } from './client.js';

/**
 * Whether an engine's image was pulled (or pushed) as `image`: one of its repo digests names the same
 * registry and repository. Only such a digest says the name has a registry copy. An image that was
 * also tagged and pushed under another name carries digests for that name alone (podman even lists one
 * for every tag, pushed or not), and pulling `image` from its registry would then fail or fetch
 * something else.
 */
export function pulledAs(image: string, repoDigests: readonly string[]): boolean {
  const wanted = repositoryOf(image);
  return wanted !== undefined && repoDigests.some((digest) => repositoryOf(digest) === wanted);
}

function repositoryOf(reference: string): string | undefined {
  try {
    const { host, repository } = locateImage(reference);
    return `${host}/${repository}`;
  } catch {
    return undefined; // not a reference this client can place: it names no repository to compare
  }
}
