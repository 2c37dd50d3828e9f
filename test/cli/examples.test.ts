import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { example, fixture, zenbuild, zenbuildWithoutBackends } from '../helpers/cli.js';

const pipelines = readdirSync(example('pipelines')).filter((f) => f.endsWith('.yaml'));
const RECORD_FIELDS = [
  'image',
  'digest',
  'tag',
  'dockerfile',
  'requirements',
  'settingsChecksum',
  'containsCode',
];

describe('every example pipeline plans as it is', () => {
  it('has examples for the common cases', () => {
    expect(pipelines).toEqual(
      expect.arrayContaining([
        'default-stack.yaml',
        'custom-parent.yaml',
        'requirements-apt-env.yaml',
        'custom-dockerfile.yaml',
        'per-step.yaml',
        'skip-build.yaml',
      ]),
    );
  });

  it.each(pipelines)('zenbuild plan examples/pipelines/%s --json', async (file) => {
    const result = zenbuild(['plan', example('pipelines', file), '--json']);
    expect(result.stderr).not.toMatch(/zenbuild:/);
    expect(result.code).toBe(0);
    const plan = JSON.parse(result.stdout); // exactly one JSON document
    expect(plan.pipeline).toBeTruthy();
    expect(plan.settingsChecksum).toMatch(/^[0-9a-f]{64}$/);
    for (const [key, image] of Object.entries<Record<string, unknown>>(plan.images)) {
      // An image that is another's (`sameAs`) has that one's contents, given once under its key.
      const own = typeof image.sameAs === 'string' ? plan.images[image.sameAs] : image;
      for (const field of RECORD_FIELDS) expect(own, `${key}.${field}`).toHaveProperty(field);
      if (own !== image) expect(image.settingsChecksum).toBe(own.settingsChecksum);
      // Golden file of the full Dockerfile of every image that has one.
      if (typeof image.dockerfile === 'string') {
        await expect(image.dockerfile).toMatchFileSnapshot(
          path.join('__golden__', `${path.basename(file, '.yaml')}.${key}.Dockerfile`),
        );
      }
    }
  });

  it('per-step.yaml: one image for the pipeline, one shared by two identical steps', () => {
    const plan = JSON.parse(zenbuild(['plan', example('pipelines/per-step.yaml'), '--json']).stdout);
    expect(plan.steps).toEqual({
      loader: 'orchestrator',
      trainer: 'trainer.orchestrator',
      evaluator: 'evaluator.orchestrator',
    });
    expect(plan.images['evaluator.orchestrator'].sameAs).toBe('trainer.orchestrator');
    expect(plan.builds.map((b: { id: string }) => b.id)).toEqual(['orchestrator', 'trainer.orchestrator']);
  });

  it('custom-dockerfile.yaml: the custom image is built first, the requirements on top', () => {
    const plan = JSON.parse(zenbuild(['plan', example('pipelines/custom-dockerfile.yaml'), '--json']).stdout);
    expect(plan.builds.map((b: { role: string; dependsOn: string[] }) => [b.role, b.dependsOn])).toEqual([
      ['parent', []],
      ['image', ['orchestrator:parent']],
    ]);
    expect(plan.builds[0].options).toEqual({ buildArgs: { PYTHON_VERSION: '3.11' } });
  });

  it('skip-build.yaml builds nothing', () => {
    const plan = JSON.parse(zenbuild(['plan', example('pipelines/skip-build.yaml'), '--json']).stdout);
    expect(plan.builds).toEqual([]);
    expect(plan.images.orchestrator).toMatchObject({
      decision: 'skip',
      image: '127.0.0.1:5000/ml/runtime:2026.11',
    });
  });

  it('prints a human plan with key, target, decision, reason, files, Dockerfile and checksum', () => {
    const result = zenbuild([
      'plan',
      example('pipelines/requirements-apt-env.yaml'),
      '--stack',
      example('stacks/local.yaml'),
    ]);
    expect(result.code).toBe(0);
    for (const text of [
      'Image orchestrator',
      'image:             127.0.0.1:5000/zenml:training-orchestrator',
      'decision:          generated: The generated Dockerfile adds',
      'settings checksum: ',
      '.zenml_user_requirements  (requirements list)',
      'Dockerfile:',
      '    FROM python:3.11-slim',
    ]) {
      expect(result.stdout).toContain(text);
    }
  });
});

describe('example stacks', () => {
  it('the local stack validates', () => {
    const result = zenbuild(['stack', 'validate', example('stacks/local.yaml'), '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ valid: true, stack: { name: 'local-registry' } });
  });

  it('no file means the default stack', () => {
    const result = zenbuild(['stack', 'validate']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Stack `default` is valid: local image builder, no registry');
  });

  it.each([
    ['aws.yaml', '@zenbuild/aws'],
    ['gcp.yaml', '@zenbuild/gcp'],
  ])('%s passes the stack rules, then asks for %s (exit 3) where it is not installed', (file, pkg) => {
    const result = zenbuildWithoutBackends(['stack', 'validate', example('stacks', file)]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`pnpm add ${pkg}`);
  });

  it('plan works on a remote stack without its backend installed, and says the config was not checked', () => {
    const result = zenbuildWithoutBackends([
      'plan',
      example('pipelines/custom-parent.yaml'),
      '--stack',
      example('stacks/aws.yaml'),
      '--json',
    ]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/warning: components\.image_builder: .*@zenbuild\/aws.*not checked/);
    const plan = JSON.parse(result.stdout);
    expect(plan.images.orchestrator.image).toBe(
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com/zenml:custom-parent-orchestrator',
    );
    expect(plan.builds[0]).toMatchObject({ push: true, pullPolicy: 'always' });
  });
});

describe('secrets never reach the output', () => {
  it('masks a secret ${VAR} in the plan, the Dockerfile and warnings', () => {
    const secret = 'hf_zenbuild_test_secret_4711';
    for (const args of [['--json'], []]) {
      const result = zenbuild(
        ['plan', fixture('secrets/pipeline.yaml'), '--stack', fixture('secrets/stack.yaml'), ...args],
        {
          HF_TOKEN: secret,
          REGISTRY_PASSWORD: 'registry-pass-0815',
        },
      );
      expect(result.code).toBe(0);
      expect(result.stdout + result.stderr).not.toContain(secret);
      expect(result.stdout + result.stderr).not.toContain('registry-pass-0815');
      // JSON escapes the quotes of the Dockerfile's ENV line; the human plan shows them as they are.
      expect(result.stdout).toContain(args.length ? 'HF_TOKEN=\\"***\\"' : 'HF_TOKEN="***"');
      expect(result.stderr).toMatch(/HF_TOKEN will be baked into the image/);
    }
  });

  it('masks registry credentials in stack validate', () => {
    const result = zenbuild(['stack', 'validate', fixture('secrets/stack.yaml'), '--json'], {
      REGISTRY_PASSWORD: 'registry-pass-0815',
    });
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('registry-pass-0815');
    expect(JSON.parse(result.stdout).stack.container_registry.credentials).toEqual({
      username: 'ci',
      password: '***',
    });
  });
});
