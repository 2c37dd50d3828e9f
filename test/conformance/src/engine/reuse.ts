import { type BuildOptions, LocalImageBuilder } from '@zenbuild/core/backend';
import { expect, it } from 'vitest';
import { buildParent, buildRequest, childRequest, freePort, runContext, unique } from '../helpers.js';
import type { EngineSuite } from './suite.js';

/** What reuse and parents rely on: layer cache, local parents not pulled again, image existence. */
export function engineReuseCases({ name, harness, registries }: EngineSuite): void {
  const { open } = registries;
  it('reuses its layer cache for an unchanged step, and runs the step again with no_cache', async () => {
    const { engine, baseImage, run } = harness();
    const dockerfile = `FROM ${baseImage}\nRUN echo ${unique()} && cat /proc/sys/kernel/random/uuid > /uuid\n`;
    const uuidOf = async (options: BuildOptions) => {
      const image = `zenbuild-test/${name}-cache:${unique()}`;
      await engine.build(await buildRequest(image, dockerfile, { options }), runContext());
      return run(image, ['cat', '/uuid']);
    };
    const first = await uuidOf({});
    expect(await uuidOf({})).toBe(first);
    expect(await uuidOf({ noCache: true })).not.toBe(first);
  });

  it('builds on a local parent also pushed under another name without pulling it (if-not-local)', async () => {
    const { engine, baseImage, run } = harness();
    const parent = `zenbuild-test/${name}-local-parent:${unique()}`;
    await buildParent(engine, baseImage, parent, 'local');
    const elsewhere = `${open}/zenbuild-test/${name}-copy:${unique()}`;
    await engine.tag(parent, elsewhere);
    await engine.push(elsewhere, { flavor: 'default', name: 'open', uri: open }, runContext());
    // The trap: the parent now has a repo digest, for the other name. Its own name has no registry.
    expect((await engine.localImage(parent))?.repoDigests.length).toBeGreaterThan(0);
    const child = `zenbuild-test/${name}-on-local:${unique()}`;
    await new LocalImageBuilder(engine).build(
      await childRequest(child, parent, { pullPolicy: 'if-not-local' }),
      runContext(),
    );
    expect(run(child, ['cat', '/parent'])).toBe('local\n');
  });

  it('builds on a parent built here under a registry name and never pushed, without pulling it', async () => {
    const { engine, baseImage, run } = harness();
    // A registry that does not answer: any pull would fail.
    const parent = `127.0.0.1:${await freePort()}/zenbuild-test/${name}-unpushed:${unique()}`;
    await buildParent(engine, baseImage, parent, 'unpushed');
    const child = `zenbuild-test/${name}-on-unpushed:${unique()}`;
    await new LocalImageBuilder(engine).build(
      await childRequest(child, parent, { pullPolicy: 'if-not-local' }),
      runContext(),
    );
    expect(run(child, ['cat', '/parent'])).toBe('unpushed\n');
  });

  it('tells built images from missing ones, and local-only images by their empty registry digests', async () => {
    const { engine, baseImage } = harness();
    const image = `zenbuild-test/${name}-exists:${unique()}`;
    expect(await engine.imageExists(image)).toBe(false);
    expect(await engine.localImage(image)).toBeUndefined();
    await engine.build(await buildRequest(image, `FROM ${baseImage}\nRUN echo ${unique()}\n`), runContext());
    expect(await engine.imageExists(image)).toBe(true);
    expect(await engine.localImage(image)).toMatchObject({
      id: expect.stringMatching(/^sha256:/),
      repoDigests: [],
    });
    await engine.tag(image, `${image}-copy`);
    expect(await engine.imageExists(`${image}-copy`)).toBe(true);
  });
}
