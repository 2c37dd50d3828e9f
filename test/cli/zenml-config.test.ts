import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { repoRoot, tempHome, zenbuild } from '../helpers/cli.js';
import { runInImage } from '../infra/dockerd.js';

const baseImage = inject('baseImage');
const project = path.join(repoRoot, 'test');

// A config as a ZenML user writes it, built for real. The expected values are ZenML's: PyYAML reads
// `yes` as True and 0755 as 493 and ZenML writes `ENV KEY=str(value)` raw, so Docker expands $PATH
// (src/zenml/utils/pipeline_docker_image_builder.py); runtime_environment is set after every install.
describe('a ZenML config, as it is', () => {
  it('builds with --name, PyYAML values, Docker-expanded $VAR, a literal \\$, and run-time env after installs', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-zenml-config-'));
    writeFileSync(path.join(dir, '.zen'), '');
    mkdirSync(path.join(dir, 'bin'));
    writeFileSync(path.join(dir, 'bin/hello'), '#!/bin/sh\necho "hello from PATH"\n');
    chmodSync(path.join(dir, 'bin/hello'), 0o755);
    writeFileSync(
      path.join(dir, 'config.yaml'),
      [
        '# No name: ZenML takes it from code.',
        'enable_cache: False',
        'settings:',
        '  docker:',
        `    parent_image: ${baseImage}`,
        '    allow_download_from_artifact_store: no',
        '    install_stack_requirements: "false"',
        '    environment:',
        '      PATH: "/app/bin:$PATH"',
        '      FEATURE_ON: yes',
        '      UMASK: 0755',
        '      RATIO: 1.0',
        "      PRICE: 'costs \\$5'",
        '      BASE: /srv',
        '      DATA: "$BASE/data"',
        '    runtime_environment:',
        '      MARK: runtime-only',
        '    local_project_install_command: sh -c \'hello > /app/seen && echo "mark=[$MARK]" >> /app/seen\'',
        '',
      ].join('\n'),
    );
    const result = zenbuild(
      ['build', path.join(dir, 'config.yaml'), '--name', 'zenml_config', '--json'],
      { ZENBUILD_HOME: tempHome() },
      project,
      60_000,
    );
    expect(result.stderr).not.toMatch(/zenbuild:/);
    expect(result.code).toBe(0);
    const record = JSON.parse(result.stdout);
    expect(record.pipeline).toBe('zenml_config');
    const image = record.images.orchestrator.image;
    // The install found `hello` through the expanded PATH, and did not see the run-time variable.
    expect(runInImage(image, ['cat', '/app/seen'])).toBe('hello from PATH\nmark=[]\n');
    expect(
      runInImage(image, ['sh', '-c', 'echo "$PATH|$FEATURE_ON|$UMASK|$RATIO|$PRICE|$DATA|$MARK"']).trim(),
    ).toMatch(/^\/app\/bin:[^|]*\/bin[^|]*\|True\|493\|1\.0\|costs \$5\|\/srv\/data\|runtime-only$/);
  });

  it('without --name says to pass one', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-zenml-config-'));
    writeFileSync(path.join(dir, 'config.yaml'), 'settings:\n  docker:\n    parent_image: x/y:1\n');
    const result = zenbuild(['plan', path.join(dir, 'config.yaml')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      "has no `name`: a ZenML config takes the pipeline's name from code. Pass it with `--name NAME`.",
    );
  });
});
