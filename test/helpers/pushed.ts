import { RegistryClient } from '@zenbuild/core/backend';
import { expect } from 'vitest';

/** An image of a build record, as `zenbuild build --json` prints it. */
export interface RecordedImage {
  image: string;
  tag: string;
  digest: string;
}

/**
 * That a build pushed its image to `registry` as `<registry>/zenml@sha256:…`, and that the digest it
 * returned is the one the registry itself reports for the pushed tag (its `Docker-Content-Digest`).
 */
export async function expectPushedDigest(image: RecordedImage, registry: string): Promise<void> {
  expect(image.image).toMatch(new RegExp(`^${registry.replaceAll('.', '\\.')}/zenml@sha256:[0-9a-f]{64}$`));
  const client = new RegistryClient({ env: { DOCKER_CONFIG: '/nonexistent' } });
  expect(await client.manifestDigest(`${registry}/zenml:${image.tag}`)).toBe(image.digest);
}
