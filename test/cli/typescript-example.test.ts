import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { buildImages } from '../../examples/typescript/build-images.js';
import { tempHome } from '../helpers/cli.js';
import { runInImage } from '../infra/dockerd.js';

describe('the TypeScript example (README, "Using it from TypeScript")', () => {
  it('builds a pipeline with buildPipeline, then reuses the build', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-ts-example-'));
    const file = path.join(dir, 'pipeline.yaml');
    const value = `from-typescript-${Math.random().toString(36).slice(2, 8)}`;
    writeFileSync(
      file,
      JSON.stringify({
        name: 'ts-example',
        settings: { docker: { parent_image: inject('baseImage'), environment: { VALUE: value } } },
      }),
    );
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, ZENBUILD_HOME: tempHome() };
    const first = await buildImages(file, { env });
    expect(first.reused).toBe(false);
    expect(runInImage(first.images.orchestrator?.image ?? '', ['sh', '-c', 'echo "$VALUE"']).trim()).toBe(
      value,
    );
    const second = await buildImages(file, { env });
    expect(second).toMatchObject({ id: first.id, reused: true });
  }, 60_000);
});
