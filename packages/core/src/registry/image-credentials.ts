import type { BuildRequest } from '../contracts.js';
import type { ContainerRegistry } from '../stack/stack.js';
import { locateImage } from './client.js';
import { dockerConfigCredentials, type RegistryCredentials } from './credentials.js';

/** The host (with port) a registry's API is served on: `host:5000/team` → `host:5000`. */
export function registryHost(registry: Pick<ContainerRegistry, 'uri'>): string {
  return locateImage(`${registry.uri}/x`).host;
}

/**
 * Credentials for pushing or pulling `image`: the stack registry's when the image is on its host (they
 * win over the user's, as in ZenML), else the docker config's, else none (anonymous).
 */
export async function credentialsForImage(
  image: string,
  registry: ContainerRegistry | undefined,
  env: NodeJS.ProcessEnv,
): Promise<RegistryCredentials | undefined> {
  const host = locateImage(image).host;
  if (registry?.credentials && registryHost(registry) === host) return registry.credentials;
  const fromConfig = await dockerConfigCredentials(host, env);
  if (!fromConfig) return undefined;
  const { source: _, ...credentials } = fromConfig;
  return credentials;
}

/**
 * The registry hosts a build may pull from (`request.pulls`, else its parent), each once: where an
 * engine sends credentials for the pulls. A name the Dockerfile spells wrongly is left to the builder.
 */
export function pulledRegistryHosts(request: Pick<BuildRequest, 'pulls' | 'parentImage'>): string[] {
  const images = request.pulls ?? (request.parentImage ? [request.parentImage] : []);
  const hosts = new Set<string>();
  for (const image of images) {
    try {
      hosts.add(locateImage(image).host);
    } catch {
      // not an image reference: the build itself reports it
    }
  }
  return [...hosts];
}
