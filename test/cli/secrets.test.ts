import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { repoRoot, tempHome, zenbuild, zenbuildAsync } from '../helpers/cli.js';
import { commandLinesWith } from '../helpers/processes.js';
import { runInImage, runInPodman } from '../infra/dockerd.js';

// Secret values in a pipeline config: never on a command line, in a record, or in what zenbuild prints.
const baseImage = inject('baseImage');
const podmanBaseImage = inject('podmanBaseImage');
const project = path.join(repoRoot, 'test');
const token = `tok-${Math.random().toString(36).slice(2)}-secret`;

function project_(docker: Record<string, unknown>, files: Record<string, string> = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-secrets-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  writeFileSync(
    path.join(dir, 'pipeline.yaml'),
    JSON.stringify({ name: `secrets${Math.random().toString(36).slice(2, 8)}`, settings: { docker } }),
  );
  return { dir, pipeline: path.join(dir, 'pipeline.yaml') };
}

describe.each([
  {
    mode: 'docker CLI',
    engine: 'docker',
    parent: baseImage,
    builder: { use_subprocess_call: true },
    run: runInImage,
  },
  { mode: 'podman', engine: 'podman', parent: podmanBaseImage, builder: {}, run: runInPodman },
])('a secret build arg in $mode mode', ({ engine, parent, builder, run }) => {
  it('reaches the build through the environment, never the command line', async () => {
    const { dir, pipeline } = project_(
      {
        dockerfile: 'Dockerfile',
        build_context_root: '.',
        parent_image_build_config: { build_options: { buildargs: { GH_TOKEN: '${API_TOKEN}' } } },
      },
      {
        Dockerfile: `FROM ${parent}\nARG GH_TOKEN\nRUN echo building-now && sleep 2 && echo -n "$GH_TOKEN" | sha256sum | cut -c1-64 > /token.sha\n`,
      },
    );
    writeFileSync(
      path.join(dir, 'stack.yaml'),
      JSON.stringify({ name: 'cli', components: { image_builder: { flavor: 'local', config: builder } } }),
    );
    let seen: string[] | undefined;
    const result = await zenbuildAsync(
      ['build', pipeline, '--stack', path.join(dir, 'stack.yaml'), '--progress', 'plain', '--json'],
      { API_TOKEN: token, ZENML_CONTAINER_ENGINE: engine, ZENBUILD_HOME: tempHome() },
      project,
      (stderr) => {
        if (seen === undefined && stderr.includes('building-now')) seen = commandLinesWith(token);
      },
    );
    expect(result.code).toBe(0);
    expect(seen).toEqual([]);
    const image = JSON.parse(result.stdout).images.orchestrator.image;
    expect(run(image, ['cat', '/token.sha']).trim()).toBe(createHash('sha256').update(token).digest('hex'));
    expect(result.stdout + result.stderr).not.toContain(token);
  }, 60_000);
});

describe('secret values in records and output', () => {
  it('a ${VAR} environment value is masked in the record, builds show and builds list', () => {
    const { dir, pipeline } = project_({
      parent_image: baseImage,
      environment: { API_TOKEN: '${MY_API_TOKEN}' },
    });
    const home = tempHome();
    const env = { ZENBUILD_HOME: home, MY_API_TOKEN: token };
    const built = zenbuild(['build', pipeline, '--json'], env, dir, 60_000);
    expect(built.code).toBe(0);
    const record = JSON.parse(built.stdout);
    expect(record.images.orchestrator.dockerfile).toContain('ENV API_TOKEN="***"');
    // A later process does not know the value: what it reads must already be masked.
    const later = { ZENBUILD_HOME: home };
    for (const args of [
      ['builds', 'show', record.id, '--json'],
      ['builds', 'show', record.id],
      ['builds', 'list', '--json'],
    ]) {
      const shown = zenbuild(args, later);
      expect(shown.code).toBe(0);
      expect(shown.stdout).not.toContain(token);
    }
    const files = readdirSync(path.join(home, 'builds')).map((f) =>
      readFileSync(path.join(home, 'builds', f), 'utf8'),
    );
    expect(files.join('')).not.toContain(token);
    // The image itself has the value: masking is about what zenbuild shows and keeps, not the build.
    expect(runInImage(record.images.orchestrator.image, ['sh', '-c', 'echo "$API_TOKEN"']).trim()).toBe(
      token,
    );
  }, 60_000);

  it('a literal value under a secret-looking name is masked, and the warning names its own field', () => {
    const { pipeline } = project_({
      parent_image: 'team/base:1',
      runtime_environment: { DB_PASSWORD: 'hunter2-literal' },
    });
    const result = zenbuild(['plan', pipeline]);
    expect(result.code).toBe(0);
    expect(result.stdout + result.stderr).not.toContain('hunter2-literal');
    expect(result.stdout).toContain('ENV DB_PASSWORD="***"');
    expect(result.stderr).toMatch(
      /warning: settings\.docker\.runtime_environment: DB_PASSWORD will be baked into the image as ENV.*build secret/,
    );
    expect(result.stderr).not.toMatch(/settings\.docker\.environment:/);
  });
});
