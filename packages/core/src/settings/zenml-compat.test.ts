import { describe, expect, it } from 'vitest';
import {
  dockerPipeline,
  errorOf,
  onlyImage,
  pipeline,
  plan,
  project,
  stack,
} from '../__fixtures__/pipeline.js';
import { parseYaml } from '../config/yaml-file.js';
import { pipelineConfigFromData } from '../pipeline-config/pipeline-config.js';
import { zenmlBoolEnv } from '../plan/plan.js';

// A ZenML user's config gives the same image in zenbuild. Each expected value comes from ZenML's code,
// named in the test: PyYAML (ZenML reads configs with yaml.safe_load), pydantic (the settings models),
// src/zenml/utils/dict_utils.py, src/zenml/constants.py, src/zenml/utils/pipeline_docker_image_builder.py.

/** The generated Dockerfile of a pipeline written as YAML text, as a ZenML user writes it. */
function dockerfileOfYaml(yaml: string, env: NodeJS.ProcessEnv = {}): string {
  const config = pipelineConfigFromData(parseYaml(yaml, 'config.yaml', 'pipeline config'), {
    baseDir: project(),
    env,
    name: 'training',
  });
  return onlyImage(plan(config, { env })).dockerfile ?? '';
}

describe('YAML read as PyYAML reads it, values written as str() writes them', () => {
  it('yes, 0755 and 1.0 become True, 493 and 1.0, as in ZenML', () => {
    // PyYAML: yes → True, 0755 → 493 (octal), 1.0 → 1.0; ZenML writes `ENV KEY=str(value)`.
    const text = dockerfileOfYaml(
      'settings:\n  docker:\n    parent_image: python:3.11-slim\n    environment: {FEATURE_ON: yes, UMASK: 0755, RATIO: 1.0, N: n, BIG: 12345678901234567890}\n',
    );
    expect(text).toContain('ENV FEATURE_ON="True"');
    expect(text).toContain('ENV UMASK="493"');
    expect(text).toContain('ENV RATIO="1.0"');
    expect(text).toContain('ENV N="n"');
    expect(text).toContain('ENV BIG="12345678901234567890"');
  });
});

describe("booleans as pydantic's lax mode accepts them", () => {
  it.each([
    ['true', true],
    ['YES', true],
    ['On', true],
    ['t', true],
    ['y', true],
    ['1', true],
    [1, true],
    ['false', false],
    ['no', false],
    ['OFF', false],
    ['f', false],
    ['n', false],
    ['0', false],
    [0, false],
  ])('%j is %s', (value, expected) => {
    const settings = dockerPipeline({ parent_image: 'x/y:1', skip_build: value }).settings;
    expect(settings.skipBuild).toBe(expected);
  });
  it.each([['sometimes'], [2], ['']])('%j is refused with the field path', (value) => {
    const error = errorOf(() => dockerPipeline({ parent_image: 'x/y:1', install_stack_requirements: value }));
    expect(error.message).toContain('settings.docker.install_stack_requirements');
  });
});

describe('the deprecated build_options fallback', () => {
  it('applies when parent_image_build_config has no build options (ZenML: `... or build_options`)', () => {
    const dir = project({ Dockerfile: 'FROM x\n' });
    const p = plan(
      dockerPipeline(
        {
          dockerfile: 'Dockerfile',
          build_options: { buildargs: { V: '1' } },
          parent_image_build_config: { dockerignore: 'Dockerfile' },
          environment: { A: '1' },
        },
        dir,
      ),
    );
    expect(p.builds[0]?.options.buildArgs).toEqual({ V: '1' });
  });
});

describe('apt_packages as apt-get takes them', () => {
  it('accepts versions with globs, releases and architectures', () => {
    const packages = [
      'libpq5=15.*',
      'git/bookworm-backports',
      'libc6:amd64',
      'python3-pip:arm64=23.0+dfsg-1',
    ];
    const text = onlyImage(
      plan(dockerPipeline({ parent_image: 'x/y:1', apt_packages: packages })),
    ).dockerfile;
    expect(text).toContain("'libpq5=15.*' git/bookworm-backports libc6:amd64 python3-pip:arm64=23.0+dfsg-1");
  });
  it.each([['-y'], ['git;id'], ['$(id)'], ['a b'], ['git/']])('refuses %j', (name) => {
    const error = errorOf(() => dockerPipeline({ parent_image: 'x/y:1', apt_packages: [name] }));
    expect(error.message).toContain('settings.docker.apt_packages[0]');
  });
});

describe('step settings merge over the pipeline settings recursively (dict_utils.recursive_update)', () => {
  it('merges nested build options key by key', () => {
    const p = pipeline({
      settings: {
        docker: {
          parent_image: 'x/y:1',
          build_config: { build_options: { buildargs: { A: '1' }, target: 't' } },
        },
      },
      steps: {
        trainer: { settings: { docker: { build_config: { build_options: { buildargs: { B: '2' } } } } } },
      },
    });
    const options = p.steps[0]?.settings.buildConfig?.buildOptions;
    expect(options?.buildArgs).toEqual({ A: '1', B: '2' });
    expect(options?.target).toBe('t');
  });
  it('replaces lists whole', () => {
    const p = pipeline({
      settings: { docker: { parent_image: 'x/y:1', apt_packages: ['git'] } },
      steps: { s: { settings: { docker: { apt_packages: ['curl'] } } } },
    });
    expect(p.steps[0]?.settings.aptPackages).toEqual(['curl']);
  });
});

describe("today's run configuration keys (PipelineRunConfiguration, step configuration)", () => {
  it('are accepted and ignored at run and step level', () => {
    const p = pipeline({
      enable_heartbeat: true,
      execution_mode: 'continue_on_failure',
      init_hook_source: 'hooks.init',
      init_hook_kwargs: { a: 1 },
      cleanup_hook_source: 'hooks.cleanup',
      start_hook_source: 'hooks.start',
      end_hook_source: 'hooks.end',
      settings: { docker: { parent_image: 'x/y:1' } },
      steps: {
        s: {
          start_hook_source: 'h.s',
          end_hook_source: 'h.e',
          runtime: 'isolated',
          heartbeat_healthy_threshold: 30,
          group: 'g',
        },
      },
    });
    expect(p.steps.map((s) => s.name)).toEqual(['s']);
  });
  it('an unknown key is still an error with a hint', () => {
    expect(errorOf(() => pipeline({ enable_heartbeet: true })).message).toMatch(
      /did you mean `enable_heartbeat`/,
    );
  });
});

describe('a ZenML config has no name', () => {
  it('takes the name from the caller (--name), as ZenML takes it from code', () => {
    const p = pipelineConfigFromData({ settings: {} }, { baseDir: project(), env: {}, name: 'from-code' });
    expect(p.name).toBe('from-code');
  });
  it('says to pass --name when there is none', () => {
    const error = errorOf(() => pipelineConfigFromData({ settings: {} }, { baseDir: project(), env: {} }));
    expect(error.message).toContain('Pass it with `--name NAME`');
  });
});

describe('ZENML_LOGGING_COLORS_DISABLED as handle_bool_env_var reads it (src/zenml/constants.py)', () => {
  it.each([
    [undefined, 'False'],
    ['1', 'True'],
    ['y', 'True'],
    ['yes', 'True'],
    ['True', 'True'],
    ['true', 'True'],
    ['TRUE', 'False'],
    ['on', 'False'],
    ['0', 'False'],
    ['anything', 'False'],
  ])('%j gives %s', (value, expected) => {
    expect(zenmlBoolEnv(value)).toBe(expected);
    const env = value === undefined ? {} : { ZENML_LOGGING_COLORS_DISABLED: value };
    const text = onlyImage(
      plan(dockerPipeline({ parent_image: 'x/y:1', apt_packages: ['git'] }), { env }),
    ).dockerfile;
    expect(text).toContain(`ENV ZENML_LOGGING_COLORS_DISABLED="${expected}"`);
  });
});

describe('every stack component counts toward the stack requirements (Stack.requirements)', () => {
  const stackWith = (components: Record<string, unknown>) => stack({ components });
  const requirementsOf = (s: ReturnType<typeof stack>) =>
    onlyImage(plan(dockerPipeline({ parent_image: 'x/y:1' }), { stack: s })).requirementFiles.find(
      (f) => f.name === '.zenml_stack_integration_requirements',
    );

  it('an orchestrator, experiment tracker and alerter add their integrations, sorted as ZenML sorts them', () => {
    const file = requirementsOf(
      stackWith({
        orchestrator: { flavor: 'kubernetes' },
        experiment_tracker: { flavor: 'mlflow' },
        alerter: { flavor: 'slack' },
      }),
    );
    expect(file?.source).toBe('stack integrations (kubernetes, mlflow, slack)');
    const lines = file?.content.split('\n') ?? [];
    expect(lines).toEqual([...lines].sort());
    expect(lines).toContain('kubernetes>=21.7,<26');
    expect(lines.some((l) => l.startsWith('mlflow'))).toBe(true);
  });
  it('a data validator brings its apt packages too', () => {
    const image = onlyImage(
      plan(dockerPipeline({ parent_image: 'x/y:1' }), {
        stack: stackWith({ data_validator: { flavor: 'deepchecks' } }),
      }),
    );
    expect(image.aptPackages).toEqual(['ffmpeg', 'libsm6', 'libxext6']);
  });
  it('a flavor of ZenML itself adds nothing', () => {
    expect(requirementsOf(stackWith({ orchestrator: { flavor: 'local_docker' } }))).toBeUndefined();
  });
  it('an unknown flavor is refused with the known ones', () => {
    const error = errorOf(() => stackWith({ experiment_tracker: { flavor: 'tensorboardx' } }));
    expect(error.message).toMatch(
      /components\.experiment_tracker\.flavor: unknown experiment tracker flavor `tensorboardx`\. Known flavors: mlflow, wandb, neptune, comet/,
    );
  });
});
