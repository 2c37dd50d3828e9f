import type { ContainerRegistry } from '@zenbuild/core';
import { expect, it } from 'vitest';
import { buildRequest, failure, freePort, runContext, unique } from '../helpers.js';
import type { EngineSuite } from './suite.js';

/** Failures say what failed: a RUN step's output, a registry that does not answer. */
export function engineErrorsCases({ name, harness }: EngineSuite): void {
  it('fails a push to a registry that does not answer with a short message naming it', async () => {
    const { engine, baseImage } = harness();
    const down = `127.0.0.1:${await freePort()}`;
    const image = `${down}/zenbuild-test/${name}-down:${unique()}`;
    // An image of its own (the cache would otherwise hand out the base's or another test's), so the
    // unreachable name is tagged on nothing another test looks at.
    await engine.build(await buildRequest(image, `FROM ${baseImage}\nRUN echo ${unique()}\n`), runContext());
    const registry: ContainerRegistry = { flavor: 'default', name: 'down', uri: down };
    const error = await failure(engine.push(image, registry, runContext()));
    expect(error.message).toMatch(
      new RegExp(`^Pushing ${image.replaceAll('.', '\\.')} failed: .*${down}.*connection refused`),
    );
    expect(error.message).not.toMatch(/Copying blob|\n/); // the engine's error, not its progress
  });

  it('fails a failing RUN with BUILD_FAILED and the step’s output', async () => {
    const { engine, baseImage } = harness();
    const error = await failure(
      engine.build(
        await buildRequest(
          `zenbuild-test/${name}-fails:${unique()}`,
          `FROM ${baseImage}\nRUN echo about to fail && exit 3\n`,
        ),
        runContext(),
      ),
    );
    expect(error.code).toBe('BUILD_FAILED');
    expect(String(error.details.stderrTail)).toContain('about to fail');
  });
}
