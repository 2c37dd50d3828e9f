import type { ContainerRegistry } from '@zenbuild/core';
import type { ImageBuilder } from '@zenbuild/core/backend';
import { RegistryClient } from '@zenbuild/core/backend';
import { describe, expect, inject, it } from 'vitest';
import { buildRequest, failure, runContext } from './container-engine.js';

export interface BuilderHarness {
  builder: ImageBuilder;
  /** An offline base image the builder's engine has locally (never pulled from a registry). */
  baseImage: string;
  run(image: string, command: string[]): string;
}

export interface BuilderKind {
  /**
   * A builder that builds elsewhere (CodeBuild, Cloud Build): every build pushes to the stack's
   * registry (of this flavor), and it logs in to it by its own config, never with the stack's plain
   * credentials.
   */
  remote?: { registryFlavor: string };
}

const unique = () => Math.random().toString(36).slice(2, 8);

/**
 * What every ImageBuilder must do (the ImageBuilder contract, packages/core/src/contracts.ts): build a request, push when given a registry and
 * return `repository@sha256:<digest>` as the registry reports it, honour the build options, keep the
 * image local otherwise (or, built elsewhere, refuse to build without a registry), and refuse an image
 * name outside the registry before building. `remote` says which of the two a builder does.
 */
export function imageBuilderConformance(
  name: string,
  harness: () => BuilderHarness,
  { remote }: BuilderKind = {},
) {
  const { open, auth, user, password } = inject('registries');
  const client = new RegistryClient({
    env: { DOCKER_CONFIG: '/nonexistent-zenbuild' },
    credentials: { [auth]: { username: user, password } },
  });
  const openRegistry = (uri = open): ContainerRegistry => ({
    flavor: remote?.registryFlavor ?? 'default',
    name: 'open',
    uri,
  });

  describe(`ImageBuilder conformance: ${name}`, () => {
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

    it('honours the build options inside the image: build args, target, extra hosts, shm size', async () => {
      const { builder, baseImage, run } = harness();
      const imageName = `${open}/zenbuild-test/${name}-options:${unique()}`;
      const dockerfile = [
        `FROM ${baseImage} AS probe`,
        'ARG STAGE_NOTE',
        `RUN echo "$STAGE_NOTE" > /note && df -k /dev/shm | tail -n 1 > /shm && grep db.internal /etc/hosts > /hosts && echo ${unique()}`,
        `FROM ${baseImage} AS final`,
        'RUN echo final > /stage',
      ].join('\n');
      const built = await builder.build(
        await buildRequest(imageName, dockerfile, {
          registry: openRegistry(),
          options: {
            buildArgs: { STAGE_NOTE: 'from the probe stage' },
            target: 'probe',
            extraHosts: { 'db.internal': '10.1.2.3' },
            shmSize: 32 * 1024 * 1024,
          },
        }),
        runContext(),
      );
      const [note, shm, hosts, stage] = run(built.image, [
        'sh',
        '-c',
        'cat /note /shm /hosts; test -e /stage || echo none',
      ])
        .trim()
        .split('\n');
      expect(note).toBe('from the probe stage');
      expect(shm?.split(/\s+/).slice(1, 2)).toEqual(['32768']);
      expect(hosts?.split(/\s+/)).toEqual(['10.1.2.3', 'db.internal']);
      expect(stage).toBe('none');
    });

    if (remote) registerRemoteCases();
    else registerLocalCases();

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
  });

  /** A builder that builds elsewhere has nowhere to keep an image but the registry. */
  function registerRemoteCases() {
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

  function registerLocalCases() {
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
  }
}
