import type { ContainerRegistry, ImageBuilder } from '@zenbuild/core';
import { RegistryClient } from '@zenbuild/core';
import { describe, expect, inject, it } from 'vitest';
import { buildRequest, failure, runContext } from './container-engine.js';

export interface BuilderHarness {
  builder: ImageBuilder;
  /** An offline base image the builder's engine has locally (never pulled from a registry). */
  baseImage: string;
  run(image: string, command: string[]): string;
}

const unique = () => Math.random().toString(36).slice(2, 8);

/**
 * What every ImageBuilder must do (ARCHITECTURE §3): build a request, push when given a registry and
 * return `repository@sha256:<digest>` as the registry reports it, keep the image local otherwise,
 * and refuse an image name outside the registry before building.
 */
export function imageBuilderConformance(name: string, harness: () => BuilderHarness) {
  const { open, auth, user, password } = inject('registries');
  const client = new RegistryClient({
    env: { DOCKER_CONFIG: '/nonexistent-zenbuild' },
    credentials: { [auth]: { username: user, password } },
  });

  describe(`ImageBuilder conformance: ${name}`, () => {
    it('pushes to the registry and returns the image by the digest the registry reports', async () => {
      const { builder, baseImage, run } = harness();
      const registry: ContainerRegistry = { flavor: 'default', name: 'open', uri: open };
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

    it('logs in with the stack registry credentials and pushes to a registry with auth', async () => {
      const { builder, baseImage } = harness();
      const registry: ContainerRegistry = {
        flavor: 'default',
        name: 'auth',
        uri: auth,
        credentials: { username: user, password },
      };
      const imageName = `${auth}/zenbuild-test/${name}-builder-auth:${unique()}`;
      const built = await builder.build(
        await buildRequest(imageName, `FROM ${baseImage}\nRUN echo ${unique()} > /id\n`, { registry }),
        runContext(),
      );
      expect(await client.manifestDigest(imageName)).toBe(built.digest);
    });

    it('keeps the image local without a registry', async () => {
      const { builder, baseImage, run } = harness();
      const imageName = `zenbuild-test/${name}-local:${unique()}`;
      const built = await builder.build(
        await buildRequest(imageName, `FROM ${baseImage}\nRUN echo local > /where\n`),
        runContext(),
      );
      expect(built).toMatchObject({ image: imageName, tag: imageName.split(':').pop() });
      expect(built.digest).toBeUndefined();
      expect(run(imageName, ['cat', '/where'])).toBe('local\n');
    });

    it('refuses an image name that does not belong to the registry, before building', async () => {
      const { builder, baseImage } = harness();
      const registry: ContainerRegistry = { flavor: 'default', name: 'open', uri: `${open}/team` };
      const error = await failure(
        builder.build(
          await buildRequest(`${open}/teammates/x:1`, `FROM ${baseImage}\n`, { registry }),
          runContext(),
        ),
      );
      expect(error.code).toBe('INVALID_INPUT');
      expect(error.message).toContain(`does not belong to container registry \`${open}/team\``);
    });
  });
}
