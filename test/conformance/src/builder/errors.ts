import { expect, it } from 'vitest';
import { buildRequest, failure, runContext, unique } from '../helpers.js';
import type { BuilderSuite } from './suite.js';

/** Refuses, before anything runs, an image name outside the registry, and (remote) a build without one. */
export function builderErrorsCases({ name, harness, registries, openRegistry, remote }: BuilderSuite): void {
  const { open } = registries;
  it('refuses an image name that does not belong to the registry, before building', async () => {
    const { builder, baseImage } = harness();
    const registry = openRegistry(`${open}/team`);
    const error = await failure(
      builder.build(
        await buildRequest(`${open}/teammates/x:1`, `FROM ${baseImage}\n`, { registry }),
        runContext(),
      ),
    );
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toContain(`does not belong to container registry \`${open}/team\``);
  });

  if (remote) {
    it('refuses to build without a registry, before anything is uploaded', async () => {
      const { builder, baseImage } = harness();
      const error = await failure(
        builder.build(
          await buildRequest(`zenbuild-test/${name}-local:${unique()}`, `FROM ${baseImage}\n`),
          runContext(),
        ),
      );
      expect(error.code).toBe('INVALID_INPUT');
      expect(error.message).toMatch(/requires a container registry to push the image to/);
    });
  }
}
