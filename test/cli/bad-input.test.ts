import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { example, fixture, zenbuild } from '../helpers/cli.js';

/**
 * The bad-input corpus: every case is refused before anything runs, with exit code 2, a message on
 * stderr that names the file or field and says what is wrong, and nothing on stdout.
 */
const pipelineCases: Array<[file: string, message: RegExp]> = [
  ['wrong-type.yaml', /settings\.docker\.apt_packages: expected a list, got text/],
  [
    'unknown-settings-key.yaml',
    /settings\.docker\.parent_imag: unknown key `parent_imag`; did you mean `parent_image`\?/,
  ],
  ['unknown-top-key.yaml', /nmae: unknown key `nmae`; did you mean `name`\?/],
  ['broken.yaml', /broken\.yaml:\d+:\d+ is not valid YAML/],
  ['empty.yaml', /empty\.yaml is empty/],
  ['not-a-mapping.yaml', /must be a YAML mapping at the top level/],
  [
    'skip-build-without-parent.yaml',
    /settings\.docker\.skip_build: settings that skip the build must contain a parent image/,
  ],
  [
    'dockerfile-missing.yaml',
    /settings\.docker\.dockerfile: the Dockerfile .*does-not-exist\/Dockerfile does not exist/,
  ],
  [
    'missing-variable.yaml',
    /`ZENBUILD_TEST_UNSET_VARIABLE` is not set, but settings\.docker\.environment\.TOKEN/,
  ],
  [
    'requirements-missing.yaml',
    /settings\.docker\.requirements: requirements file .*no-such-requirements\.txt does not exist/,
  ],
  [
    'unknown-integration.yaml',
    /required_integrations\[1\]: unknown integration `tensorfloww`\. Known integrations: .*tensorflow/,
  ],
  [
    'bad-step-value.yaml',
    /steps\.trainer\.settings\.docker\.apt_packages\[1\]: must be a Debian package name/,
  ],
  ['steps-not-a-mapping.yaml', /steps: expected a mapping, got a list/],
  ['build-option-twice.yaml', /build_options\.no_cache: `no_cache` and `nocache` are the same option/],
  ['duplicate-key.yaml', /duplicate-key\.yaml:\d+:\d+ is not valid YAML: Map keys must be unique/],
  ['bad-source-files.yaml', /settings\.docker\.source_files: Invalid source file mode `sometimes`/],
  ['nothing-to-build.yaml', /settings\.docker: nothing to build or run/],
];

describe('zenbuild plan refuses bad pipeline configs with exit code 2', () => {
  it.each(pipelineCases)('%s', (file, message) => {
    const result = zenbuild(['plan', fixture('bad-input', file)]);
    expect(result.stderr).toMatch(message);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
  });

  it('a pipeline file that does not exist', () => {
    const result = zenbuild(['plan', 'no/such/pipeline.yaml']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/pipeline config .*no\/such\/pipeline\.yaml does not exist/);
  });

  it('prints the error as the one JSON document with --json', () => {
    const result = zenbuild(['plan', fixture('bad-input', 'wrong-type.yaml'), '--json']);
    expect(result.code).toBe(2);
    const document = JSON.parse(result.stdout);
    expect(document.error).toMatchObject({
      code: 'INVALID_INPUT',
      details: { path: 'settings.docker.apt_packages' },
    });
  });
});

describe('a ZENBUILD_HOME zenbuild cannot use is an input error, before anything is built', () => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'zenbuild-home-file-')), 'home');
  writeFileSync(file, 'not a directory');
  it.each([
    ['build', example('pipelines/custom-parent.yaml')],
    ['plan', example('pipelines/custom-parent.yaml')],
    ['context', example('project')],
    ['builds', 'list'],
  ])('zenbuild %s %s', (...args) => {
    const result = zenbuild(args, { ZENBUILD_HOME: file });
    expect(result.stderr).toMatch(
      new RegExp(
        `^zenbuild: ZENBUILD_HOME=${file}: ${file} is not a directory\\. zenbuild keeps its build records`,
      ),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).not.toMatch(/internal error|at async/);
  });
});

const stackCases: Array<[file: string, message: RegExp]> = [
  ['stack-unknown-flavor.yaml', /components\.image_builder\.flavor: unknown image builder flavor `kaniko`/],
  [
    'stack-aws-without-registry.yaml',
    /components\.container_registry: The aws image builder requires a container registry/,
  ],
  ['stack-registry-scheme.yaml', /components\.container_registry\.config\.uri: must not start with a scheme/],
  [
    'stack-unknown-component.yaml',
    /components\.orchestrater: unknown key `orchestrater`; did you mean `orchestrator`\?/,
  ],
];

describe('bad stacks are refused with exit code 2 by every command that reads them', () => {
  it.each(stackCases)('%s', (file, message) => {
    for (const args of [
      ['stack', 'validate', fixture('bad-input', file)],
      ['plan', example('pipelines/custom-parent.yaml'), '--stack', fixture('bad-input', file)],
    ]) {
      const result = zenbuild(args);
      expect(result.stderr).toMatch(message);
      expect(result.code).toBe(2);
    }
  });
});

describe('usage errors exit with code 2', () => {
  it.each([
    [['plan'], /missing required argument 'pipeline'/],
    [['plan', example('pipelines/custom-parent.yaml'), '--jsn'], /unknown option '--jsn'/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [[], /Usage: zenbuild/],
  ])('zenbuild %j', (args, message) => {
    const result = zenbuild(args as string[]);
    expect(result.stderr).toMatch(message);
    expect(result.code).toBe(2);
  });

  it('an unknown ZENML_CONTAINER_ENGINE value', () => {
    const result = zenbuild(['engine'], { ZENML_CONTAINER_ENGINE: 'nerdctl' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/ZENML_CONTAINER_ENGINE=nerdctl is not a container engine zenbuild knows/);
  });

  it('a ZENBUILD_PODMAN_KEEP_CONTEXTS that is not a number', () => {
    const result = zenbuild(['engine'], {
      ZENML_CONTAINER_ENGINE: 'podman',
      ZENBUILD_PODMAN_KEEP_CONTEXTS: '2GB',
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/ZENBUILD_PODMAN_KEEP_CONTEXTS must be a whole number .* got `2GB`/);
  });
});
