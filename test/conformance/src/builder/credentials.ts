import type { ContainerRegistry } from '@zenbuild/core';
import { expect, it } from 'vitest';
import { buildRequest, runContext, unique } from '../helpers.js';
import type { BuilderSuite } from './suite.js';

/** A local builder logs in with the stack registry's credentials (a remote one runs none of these). */
export function builderCredentialsCases({ name, harness, registries, client }: BuilderSuite): void {
  const { auth, user, password } = registries;
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
}
