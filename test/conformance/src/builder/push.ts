import { expect, it } from 'vitest';
import { buildRequest, runContext, unique } from '../helpers.js';
import type { BuilderSuite } from './suite.js';

/** Pushes to the registry and returns the image by the digest the registry reports. */
export function builderPushCases({ name, harness, registries, openRegistry, client }: BuilderSuite): void {
  const { open } = registries;
  it('pushes to the registry and returns the image by the digest the registry reports', async () => {
    const { builder, baseImage, run } = harness();
    const registry = openRegistry();
    const imageName = `${open}/zenbuild-test/${name}-builder:${unique()}`;
    const built = await builder.build(
      await buildRequest(imageName, `FROM ${baseImage}\nRUN echo built-by-${name} > /who\n`, {
        registry,
        parentImage: baseImage,
        pullPolicy: 'if-not-local',
      }),
      runContext(),
    );
    expect(built.image).toBe(`${open}/zenbuild-test/${name}-builder@${built.digest}`);
    expect(built.tag).toBe(imageName.split(':').pop());
    expect(await client.manifestDigest(imageName)).toBe(built.digest);
    expect(run(built.image, ['cat', '/who'])).toBe(`built-by-${name}\n`);
  });
}
