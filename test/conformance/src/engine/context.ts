import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hashContext, walkContext } from '@zenbuild/core';
import { buildContextSource } from '@zenbuild/core/backend';
import { expect, it } from 'vitest';
import { failure, runContext, unique } from '../helpers.js';
import type { EngineSuite } from './suite.js';

/** Builds exactly the context core decided, and refuses one that changed after planning. */
export function engineContextCases({ name, harness }: EngineSuite): void {
  it('refuses a context whose file changed after planning, and builds nothing from it', async () => {
    const { engine, baseImage } = harness();
    const image = `zenbuild-test/${name}-changed:${unique()}`;
    const root = mkdtempSync(path.join(tmpdir(), 'zenbuild-engine-'));
    writeFileSync(path.join(root, 'a.py'), 'a = 1\n');
    writeFileSync(path.join(root, 'z.py'), 'z = 1\n');
    const dockerfile = `FROM ${baseImage}\nCOPY . /ctx/\n`;
    const walked = await walkContext({ root, files: [{ path: 'Dockerfile', content: dockerfile }] });
    const { hash } = await hashContext(walked.entries);
    // The archive refuses z.py once its header is out; the engine must stop and give that reason,
    // not the engine's "unexpected EOF" (and must never build a shorter context).
    writeFileSync(path.join(root, 'z.py'), 'z = 2  # edited after the plan\n');
    const error = await failure(
      engine.build(
        {
          imageName: image,
          context: buildContextSource(walked.entries, hash),
          dockerfile: 'Dockerfile',
          options: {},
        },
        runContext(),
      ),
    );
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toMatch(/z\.py changed after the build context was planned/);
    expect(await engine.imageExists(image)).toBe(false);
  });
}
