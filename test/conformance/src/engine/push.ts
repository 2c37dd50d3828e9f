import { expect, it } from 'vitest';
import { buildParent, buildRequest, childRequest, runContext, unique } from '../helpers.js';
import type { EngineSuite } from './suite.js';

/** Pushes and returns the registry's digest; pulls parents from plain-http loopback registries. */
export function enginePushCases({ name, harness, registryClient, registries }: EngineSuite): void {
  const { open } = registries;
  it('pushes and returns the digest the registry reports', async () => {
    const { engine, baseImage } = harness();
    const image = `${open}/zenbuild-test/${name}-pushed:${unique()}`;
    await engine.build(
      await buildRequest(image, `FROM ${baseImage}\nRUN echo ${unique()} > /id\n`),
      runContext(),
    );
    const digest = await engine.push(image, undefined, runContext());
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await registryClient.manifestDigest(image)).toBe(digest);
  });

  it('pulls its parent image from a loopback registry over plain http, as Docker assumes', async () => {
    const { engine, baseImage, run } = harness();
    const parent = `${open}/zenbuild-test/${name}-parent:${unique()}`;
    await buildParent(engine, baseImage, parent, 'parent');
    await engine.push(parent, { flavor: 'default', name: 'open', uri: open }, runContext());
    const child = `zenbuild-test/${name}-child:${unique()}`;
    // pull: true makes the engine ask the registry even though it has the parent.
    await engine.build(await childRequest(child, parent, { options: { pull: true } }), runContext());
    expect(run(child, ['cat', '/parent'])).toBe('parent\n');
  });
}
