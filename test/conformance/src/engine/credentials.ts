import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ContainerRegistry } from '@zenbuild/core';
import { imagesPulledBy, RegistryClient } from '@zenbuild/core/backend';
import { expect, it } from 'vitest';
import { credentialHelperConfig } from '../credential-helper.js';
import {
  buildParent,
  buildRequest,
  childRequest,
  dockerConfig,
  failure,
  runContext,
  unique,
} from '../helpers.js';
import { startTokenProxy } from '../token-proxy.js';
import type { EngineSuite } from './suite.js';

/** Credentials from the stack, the docker config, identity tokens and credential helpers, for pulls and pushes. */
export function engineCredentialsCases({ name, harness, authRegistry, registries }: EngineSuite): void {
  const { open, auth, user, password } = registries;
  it('pulls a private parent image with the stack registry credentials', async () => {
    const { engine, baseImage, run } = harness();
    const registry = authRegistry();
    const parent = `${auth}/zenbuild-test/${name}-private-parent:${unique()}`;
    await buildParent(engine, baseImage, parent, 'private');
    await engine.push(parent, registry, runContext());
    const child = `zenbuild-test/${name}-private-child:${unique()}`;
    const request = (credentials: ContainerRegistry) =>
      childRequest(child, parent, { options: { pull: true }, registry: credentials });
    await engine.build(await request(registry), runContext());
    expect(run(child, ['cat', '/parent'])).toBe('private\n');
    // Without the credentials the registry refuses the pull: they really were what got it.
    const { credentials: _, ...anonymous } = registry;
    await expect(engine.build(await request(anonymous), runContext())).rejects.toThrow();
  });

  it('pulls a private parent image with credentials from the docker config ($DOCKER_CONFIG auths)', async () => {
    const { engine, baseImage, run, withEnv } = harness();
    const registry = authRegistry();
    const parent = `${auth}/zenbuild-test/${name}-config-parent:${unique()}`;
    await buildParent(engine, baseImage, parent, 'from-the-config');
    await engine.push(parent, registry, runContext());
    const config = dockerConfig({
      [auth]: { auth: Buffer.from(`${user}:${password}`).toString('base64') },
    });
    const child = `zenbuild-test/${name}-config-child:${unique()}`;
    // No stack credentials: the pull (forced) can only get them from the docker config.
    await withEnv({ DOCKER_CONFIG: config, PATH: process.env.PATH }).build(
      await childRequest(child, parent, { options: { pull: true } }),
      runContext(),
    );
    expect(run(child, ['cat', '/parent'])).toBe('from-the-config\n');
  });

  it("pulls a custom Dockerfile's private FROM with the docker config's credentials while the stack registry brings its own", async () => {
    const { engine, baseImage, run, withEnv } = harness();
    const parent = `${auth}/zenbuild-test/${name}-custom-from:${unique()}`;
    await buildParent(engine, baseImage, parent, 'custom-from');
    await engine.push(parent, authRegistry(), runContext());
    // The stack's registry is another one, with credentials of its own: zenbuild must hand the
    // engine both, as `docker build` with the user's config would have them.
    const stack: ContainerRegistry = {
      flavor: 'default',
      name: 'open',
      uri: open,
      credentials: { username: 'anyone', password: 'the-open-registry-takes-any' },
    };
    const dockerfile = `ARG BASE=${parent}\nFROM \${BASE} AS base\nFROM base\nRUN cat /parent\n`;
    const child = `${open}/zenbuild-test/${name}-custom-child:${unique()}`;
    // A custom Dockerfile: no parent on the request, only what the plan reads off its FROM lines.
    const request = await buildRequest(child, dockerfile, {
      options: { pull: true },
      registry: stack,
      pulls: imagesPulledBy(dockerfile),
    });
    const config = dockerConfig({
      [auth]: { auth: Buffer.from(`${user}:${password}`).toString('base64') },
    });
    await withEnv({ DOCKER_CONFIG: config, PATH: process.env.PATH }).build(request, runContext());
    expect(run(child, ['cat', '/parent'])).toBe('custom-from\n');
    // Without them in the docker config the registry refuses the (forced) pull.
    const empty = dockerConfig({});
    await expect(
      withEnv({ DOCKER_CONFIG: empty, PATH: process.env.PATH }).build(request, runContext()),
    ).rejects.toThrow();
  });

  it('pushes with an identity token from the docker config, as docker login stores it for Azure', async () => {
    const { baseImage, withEnv } = harness();
    const refreshToken = `refresh-${unique()}`;
    const proxy = await startTokenProxy(open, undefined, refreshToken);
    try {
      const config = dockerConfig({
        [proxy.host]: {
          auth: Buffer.from('00000000-0000-0000-0000-000000000000:').toString('base64'),
          identitytoken: refreshToken,
        },
      });
      const engine = withEnv({ DOCKER_CONFIG: config, PATH: process.env.PATH });
      const image = `${proxy.host}/zenbuild-test/${name}-identity:${unique()}`;
      await engine.build(
        await buildRequest(image, `FROM ${baseImage}\nRUN echo ${unique()} > /id\n`),
        runContext(),
      );
      const digest = await engine.push(image, undefined, runContext());
      const client = new RegistryClient({ env: { DOCKER_CONFIG: config } });
      expect(await client.manifestDigest(image)).toBe(digest);
      // The push got its token for the refresh token, the only way this registry hands them out.
      expect(proxy.tokenRequests.some((r) => /^POST refresh_token \S+ repository:\S+:\S*push/.test(r))).toBe(
        true,
      );
    } finally {
      await proxy.close();
    }
  });

  it('pushes with the stack registry credentials, and a wrong password is an auth error that hides it', async () => {
    const { engine, baseImage } = harness();
    const registry = authRegistry();
    const image = `${auth}/zenbuild-test/${name}-private:${unique()}`;
    await engine.build(
      await buildRequest(image, `FROM ${baseImage}\nRUN echo ${unique()} > /id\n`),
      runContext(),
    );
    await engine.login(registry);
    const digest = await engine.push(image, registry, runContext());
    const authed = new RegistryClient({
      env: { DOCKER_CONFIG: '/nonexistent-zenbuild' },
      credentials: { [auth]: { username: user, password } },
    });
    expect(await authed.manifestDigest(image)).toBe(digest);
    const wrong = await failure(
      engine.push(
        image,
        { ...registry, credentials: { username: user, password: 'wrong-pass-77' } },
        runContext(),
      ),
    );
    expect(wrong.code).toBe('NOT_AVAILABLE');
    expect(wrong.message).toMatch(/refused/);
    expect(wrong.message).toContain('check the registry credentials');
    expect(wrong.message).not.toContain('wrong-pass-77');
    expect(
      (
        await failure(
          engine.login({ ...registry, credentials: { username: user, password: 'wrong-pass-77' } }),
        )
      ).code,
    ).toBe('NOT_AVAILABLE');
  });

  it('pushes with credentials from the docker config ($DOCKER_CONFIG) when the stack gives none', async () => {
    const { engine, baseImage, withEnv } = harness();
    const image = `${auth}/zenbuild-test/${name}-config:${unique()}`;
    await engine.build(
      await buildRequest(image, `FROM ${baseImage}\nRUN echo ${unique()} > /id\n`),
      runContext(),
    );
    const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-dc-'));
    writeFileSync(
      path.join(dir, 'config.json'),
      JSON.stringify({
        auths: { [auth]: { auth: Buffer.from(`${user}:${password}`).toString('base64') } },
      }),
    );
    const registry = authRegistry({ credentials: false });
    const digest = await withEnv({ PATH: process.env.PATH, DOCKER_CONFIG: dir }).push(
      image,
      registry,
      runContext(),
    );
    const authed = new RegistryClient({ env: { DOCKER_CONFIG: dir } });
    expect(await authed.manifestDigest(image)).toBe(digest);
  });

  it('pushes with credentials from the credential helper the docker config names (credsStore)', async () => {
    const { engine, baseImage, withEnv } = harness();
    const image = `${auth}/zenbuild-test/${name}-helper:${unique()}`;
    await engine.build(
      await buildRequest(image, `FROM ${baseImage}\nRUN echo ${unique()} > /id\n`),
      runContext(),
    );
    const helper = credentialHelperConfig({ registry: auth, username: user, password, via: 'credsStore' });
    const registry = authRegistry({ credentials: false });
    const digest = await withEnv(helper.env).push(image, registry, runContext());
    // Asked before the check below, which asks the helper too.
    expect(helper.asked()).toMatch(new RegExp(`^get (https?://)?${auth.replaceAll('.', '\\.')}`, 'm'));
    const authed = new RegistryClient({ env: helper.env });
    expect(await authed.manifestDigest(image)).toBe(digest);
  });
}
