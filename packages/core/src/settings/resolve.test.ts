import { describe, expect, it } from 'vitest';
import { errorOf, pipeline } from '../__fixtures__/pipeline.js';
import { resolveDockerSettings } from './resolve.js';
import { substituteEnv } from './substitute.js';

describe('merging pipeline and step settings', () => {
  it('lets the step win field by field and keeps the rest from the pipeline', () => {
    const { steps } = resolveDockerSettings({
      pipeline: { parent_image: 'python:3.11', apt_packages: ['git'], requirements: ['a'] },
      steps: { trainer: { apt_packages: ['curl'] } },
      env: {},
    });
    expect(steps.trainer).toMatchObject({
      parentImage: 'python:3.11',
      aptPackages: ['curl'],
      requirements: ['a'],
    });
  });

  it('merges map-valued settings key by key (ZenML recursive update)', () => {
    const { steps } = resolveDockerSettings({
      pipeline: {
        environment: { A: '1', B: '2' },
        python_package_installer_args: { system: null },
        build_config: { build_options: { buildargs: { X: '1' }, pull: true }, dockerignore: 'p.ignore' },
      },
      steps: {
        s: {
          environment: { B: 'step' },
          python_package_installer_args: { 'index-url': 'u' },
          build_config: { build_options: { nocache: true } },
        },
      },
      env: {},
    });
    expect(steps.s?.environment).toEqual({ A: '1', B: 'step' });
    expect(steps.s?.pythonPackageInstallerArgs).toEqual({ system: null, 'index-url': 'u' });
    expect(steps.s?.buildConfig).toEqual({
      buildOptions: { buildArgs: { X: '1' }, pull: true, noCache: true },
      dockerignore: 'p.ignore',
    });
  });

  it('replaces lists whole', () => {
    const { steps } = resolveDockerSettings({
      pipeline: { required_integrations: ['sklearn'] },
      steps: { s: { required_integrations: ['pytorch'] } },
      env: {},
    });
    expect(steps.s?.requiredIntegrations).toEqual(['pytorch']);
  });

  it('lets a step turn a pipeline flag off', () => {
    const { steps } = resolveDockerSettings({
      pipeline: { install_stack_requirements: true },
      steps: { s: { install_stack_requirements: false } },
      env: {},
    });
    expect(steps.s?.installStackRequirements).toBe(false);
  });

  it('marks steps whose effective settings differ from the pipeline', () => {
    const p = pipeline({
      settings: { docker: { apt_packages: ['git'] } },
      steps: {
        same: { settings: { docker: { apt_packages: ['git'] } } },
        none: {},
        other: { settings: { docker: { user: 'x' } } },
      },
    });
    expect(p.steps.map((s) => [s.name, s.hasOwnSettings])).toEqual([
      ['same', false],
      ['none', false],
      ['other', true],
    ]);
  });
});

describe('${VAR} substitution', () => {
  it('fills placeholders from the environment in nested strings, lists and maps', () => {
    const { value, substitutions } = substituteEnv(
      { a: 'x-${A}-y', list: ['${B}'], map: { '${K}': '${A}${B}' }, n: 3 },
      { A: '1', B: '2', K: 'key' },
    );
    expect(value).toEqual({ a: 'x-1-y', list: ['2'], map: { key: '12' }, n: 3 });
    expect(substitutions.map((s) => s.variable)).toEqual(['A', 'B', 'K', 'A', 'B']);
  });

  it('leaves text without placeholders alone, including $VAR and ${}', () => {
    expect(substituteEnv('$HOME ${} ${NOT-A-VAR}', {}).value).toBe('$HOME ${} ${NOT-A-VAR}');
  });

  it('takes $${NAME} as the literal text ${NAME}, set or not (ZenML has no escape)', () => {
    const { value, substitutions } = substituteEnv('a $${UNSET_NAME} b $${A} ${A}', { A: '1' });
    expect(value).toBe('a ${UNSET_NAME} b ${A} 1');
    expect(substitutions.map((s) => s.variable)).toEqual(['A']);
  });

  it('names the missing variable and where it was used', () => {
    const error = errorOf(() =>
      pipeline({ settings: { docker: { environment: { TOKEN: '${HF_TOKEN}' } } } }),
    );
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toContain('`HF_TOKEN` is not set');
    expect(error.message).toContain('settings.docker.environment.TOKEN');
  });

  it('substitutes step-level settings too', () => {
    const p = pipeline(
      { steps: { s: { settings: { docker: { parent_image: '${REG}/img:1' } } } } },
      undefined,
      { REG: '127.0.0.1:5000' },
    );
    expect(p.steps[0]?.settings.parentImage).toBe('127.0.0.1:5000/img:1');
  });

  it('validates the substituted value', () => {
    const error = errorOf(() =>
      pipeline({ settings: { docker: { parent_image: '${IMG}' } } }, undefined, { IMG: 'BAD IMAGE' }),
    );
    expect(error.message).toContain('settings.docker.parent_image');
  });

  it('registers secret-looking substitutions so output can mask them', () => {
    const p = pipeline(
      { settings: { docker: { environment: { HF_TOKEN: '${HF_TOKEN}', MODEL_DIR: '${DIR}' } } } },
      undefined,
      { HF_TOKEN: 'hf_abcdef123456', DIR: '/models' },
    );
    expect(p.secrets.redact('token=hf_abcdef123456 dir=/models')).toBe('token=*** dir=/models');
  });
});
