import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { repoRoot, tempHome, zenbuild } from '../helpers/cli.js';
import { runInImage } from '../infra/dockerd.js';

const { open } = inject('registries');
const baseImage = inject('baseImage');
const project = path.join(repoRoot, 'test');

/** A pipeline whose name is `name`, with a pipeline image and one image per step with its own value. */
function longNamedPipeline(name: string, docker: Record<string, unknown> = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-names-'));
  const step = (value: string) => ({ settings: { docker: { environment: { STEP_VALUE: value } } } });
  writeFileSync(
    path.join(dir, 'pipeline.yaml'),
    JSON.stringify({
      name,
      settings: {
        docker: {
          parent_image: baseImage,
          allow_download_from_artifact_store: false,
          environment: { STEP_VALUE: 'pipeline' },
          ...docker,
        },
      },
      steps: { loader: {}, trainer: step('trainer'), evaluator: step('evaluator') },
    }),
  );
  writeFileSync(
    path.join(dir, 'stack.yaml'),
    JSON.stringify({ name: 'names', components: { container_registry: { flavor: 'default', uri: open } } }),
  );
  return dir;
}

describe('image names stay distinct whatever the pipeline is called', () => {
  it('a 145-character pipeline name gives every image its own tag, and each step runs its own image', () => {
    const name = `p${'x'.repeat(140)}-long`;
    const dir = longNamedPipeline(name);
    const home = tempHome();
    const result = zenbuild(
      [
        'build',
        path.join(dir, 'pipeline.yaml'),
        '--stack',
        path.join(dir, 'stack.yaml'),
        '--concurrency',
        '2',
        '--json',
      ],
      { ZENBUILD_HOME: home },
      project,
      60_000,
    );
    expect(result.stderr).not.toMatch(/internal error/);
    expect(result.code).toBe(0);
    const record = JSON.parse(result.stdout);
    const images = record.images as Record<string, { image: string; tag: string; digest: string }>;
    const tags = Object.values(images).map((i) => i.tag);
    expect(new Set(tags).size).toBe(3);
    for (const tag of tags) expect(tag.length).toBeLessThanOrEqual(128);
    expect(images['trainer.orchestrator']?.tag).toMatch(/-trainer-orchestrator$/);
    expect(new Set(Object.values(images).map((i) => i.digest)).size).toBe(3);
    // Each step's recorded image holds that step's settings, not another's.
    const valueIn = (key: string) =>
      runInImage(images[key]?.image ?? '', ['sh', '-c', 'echo "$STEP_VALUE"']).trim();
    expect(valueIn('orchestrator')).toBe('pipeline');
    expect(valueIn('trainer.orchestrator')).toBe('trainer');
    expect(valueIn('evaluator.orchestrator')).toBe('evaluator');
  });

  it('refuses a plan in which two images would be built under one name, naming both', () => {
    // The steps inherit the pipeline's image_tag, so all three images would be zenml:v1.
    const dir = longNamedPipeline('shared-tag', { image_tag: 'v1' });
    const home = tempHome();
    const result = zenbuild(['build', path.join(dir, 'pipeline.yaml')], { ZENBUILD_HOME: home }, project);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/would both be built as zenml:v1/);
    expect(result.stderr).toMatch(/steps\.trainer\.settings\.docker/);
    expect(zenbuild(['builds', 'list', '--json'], { ZENBUILD_HOME: home }).stdout).toContain('"builds": []');
  });
});
