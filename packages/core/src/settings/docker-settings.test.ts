import { describe, expect, it } from 'vitest';
import { dockerPipeline, errorOf } from '../__fixtures__/pipeline.js';
import { resolveDockerSettings } from './resolve.js';

const resolve = (docker: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) =>
  resolveDockerSettings({ pipeline: docker, env });

describe('DockerSettings defaults', () => {
  it('has every ZenML default when nothing is set', () => {
    const { pipeline } = resolve({});
    expect(pipeline).toEqual({
      skipBuild: false,
      preventBuildReuse: false,
      pythonPackageInstaller: 'uv',
      pythonPackageInstallerArgs: {},
      disableAutomaticRequirementsDetection: true,
      requiredIntegrations: [],
      installStackRequirements: true,
      installDeploymentRequirements: true,
      aptPackages: [],
      environment: {},
      runtimeEnvironment: {},
      allowIncludingFilesInImages: true,
      allowDownloadFromCodeRepository: true,
      allowDownloadFromArtifactStore: true,
    });
  });

  it('reads every field from its YAML name', () => {
    const { pipeline } = resolve({
      parent_image: 'python:3.11-slim',
      image_tag: 'v1.2',
      dockerfile: 'Dockerfile.base',
      build_context_root: 'ctx',
      parent_image_build_config: { build_options: { buildargs: { A: 1 } }, dockerignore: 'p.dockerignore' },
      skip_build: false,
      prevent_build_reuse: true,
      target_repository: 'team/training',
      python_package_installer: 'pip',
      python_package_installer_args: { 'extra-index-url': 'https://idx', system: null },
      disable_automatic_requirements_detection: false,
      replicate_local_python_environment: true,
      pyproject_path: 'pyproject.toml',
      pyproject_export_command: ['uv', 'export', '--directory', '{directory}'],
      requirements: ['pandas'],
      required_integrations: ['sklearn'],
      install_stack_requirements: false,
      install_deployment_requirements: false,
      local_project_install_command: 'pip install .',
      apt_packages: ['git'],
      environment: { A: 'x' },
      runtime_environment: { B: 2 },
      user: 'app',
      build_config: { build_options: { nocache: true }, dockerignore: '.dockerignore' },
      allow_including_files_in_images: true,
      allow_download_from_code_repository: false,
      allow_download_from_artifact_store: false,
    });
    expect(pipeline).toMatchObject({
      parentImage: 'python:3.11-slim',
      imageTag: 'v1.2',
      dockerfile: 'Dockerfile.base',
      buildContextRoot: 'ctx',
      parentImageBuildConfig: { buildOptions: { buildArgs: { A: '1' } }, dockerignore: 'p.dockerignore' },
      preventBuildReuse: true,
      targetRepository: 'team/training',
      pythonPackageInstaller: 'pip',
      pythonPackageInstallerArgs: { 'extra-index-url': 'https://idx', system: null },
      disableAutomaticRequirementsDetection: false,
      replicateLocalPythonEnvironment: true,
      pyprojectPath: 'pyproject.toml',
      pyprojectExportCommand: ['uv', 'export', '--directory', '{directory}'],
      requirements: ['pandas'],
      requiredIntegrations: ['sklearn'],
      installStackRequirements: false,
      installDeploymentRequirements: false,
      localProjectInstallCommand: 'pip install .',
      aptPackages: ['git'],
      environment: { A: 'x' },
      runtimeEnvironment: { B: '2' },
      user: 'app',
      buildConfig: { buildOptions: { noCache: true }, dockerignore: '.dockerignore' },
      allowDownloadFromCodeRepository: false,
      allowDownloadFromArtifactStore: false,
    });
  });

  it('accepts camelCase keys from the TypeScript API', () => {
    const { pipeline } = resolve({
      parentImage: 'python:3.12',
      aptPackages: ['curl'],
      buildConfig: { buildOptions: { noCache: true } },
    });
    expect(pipeline.parentImage).toBe('python:3.12');
    expect(pipeline.aptPackages).toEqual(['curl']);
    expect(pipeline.buildConfig?.buildOptions).toEqual({ noCache: true });
  });

  it('treats YAML null as "not set"', () => {
    expect(resolve({ parent_image: null, apt_packages: null }).pipeline).toMatchObject({ aptPackages: [] });
    expect(resolve({ parent_image: null }).pipeline.parentImage).toBeUndefined();
  });

  it('renders boolean env values as ZenML (Python) does', () => {
    expect(resolve({ environment: { DEBUG: true, OFF: false, N: 3 } }).pipeline.environment).toEqual({
      DEBUG: 'True',
      OFF: 'False',
      N: '3',
    });
  });
});

describe('DockerSettings validation', () => {
  // Each case: a value, the full path the error must name, and words the message must contain.
  const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
    [
      'unknown key',
      { parent_imag: 'x' },
      'settings.docker.parent_imag',
      /unknown key `parent_imag`; did you mean `parent_image`\?/,
    ],
    ['unknown key nothing is close to', { zzz: 1 }, 'settings.docker.zzz', /unknown key `zzz`$/],
    [
      'parent_image not a reference',
      { parent_image: 'Not An Image' },
      'settings.docker.parent_image',
      /image reference/,
    ],
    [
      'parent_image wrong type',
      { parent_image: 3 },
      'settings.docker.parent_image',
      /expected text, got a number/,
    ],
    ['image_tag with a slash', { image_tag: 'a/b' }, 'settings.docker.image_tag', /valid tag/],
    ['image_tag starting with a dot', { image_tag: '.x' }, 'settings.docker.image_tag', /valid tag/],
    [
      'target_repository with a host',
      { target_repository: 'Gcr.io/x' },
      'settings.docker.target_repository',
      /repository path/,
    ],
    [
      'python_package_installer',
      { python_package_installer: 'conda' },
      'settings.docker.python_package_installer',
      /pip|uv/,
    ],
    [
      'installer arg with a newline',
      { python_package_installer_args: { x: 'a\nb' } },
      'settings.docker.python_package_installer_args.x',
      /one line/,
    ],
    [
      'apt package with a space',
      { apt_packages: ['git', 'curl; rm -rf /'] },
      'settings.docker.apt_packages[1]',
      /Debian package/,
    ],
    [
      'apt_packages not a list',
      { apt_packages: 'git' },
      'settings.docker.apt_packages',
      /expected a list, got text/,
    ],
    [
      'env key with a dash',
      { environment: { 'MY-VAR': 'x' } },
      'settings.docker.environment.MY-VAR',
      /environment variable names/,
    ],
    ['env value with a newline', { environment: { A: 'x\ny' } }, 'settings.docker.environment.A', /newline/],
    [
      'env value null',
      { environment: { A: null } },
      'settings.docker.environment.A',
      /string, number or boolean/,
    ],
    [
      'runtime env value list',
      { runtime_environment: { A: [1] } },
      'settings.docker.runtime_environment.A',
      /string, number or boolean/,
    ],
    ['requirements number', { requirements: 3 }, 'settings.docker.requirements', /requirements/],
    ['requirement with a newline', { requirements: ['a\nb'] }, 'settings.docker.requirements[0]', /one line/],
    [
      'replicate bad value',
      { replicate_local_python_environment: 'conda' },
      'settings.docker.replicate_local_python_environment',
      /pip_freeze/,
    ],
    [
      'pyproject_export_command empty',
      { pyproject_export_command: [] },
      'settings.docker.pyproject_export_command',
      /command/,
    ],
    [
      'skip_build not a bool pydantic accepts',
      { skip_build: 'sometimes' },
      'settings.docker.skip_build',
      /must be a boolean \(true\/false, yes\/no, on\/off, 1\/0, t\/f or y\/n\)/,
    ],
    [
      'install command with a newline',
      { local_project_install_command: 'a\nb' },
      'settings.docker.local_project_install_command',
      /one line/,
    ],
    ['user with a space', { user: 'my user' }, 'settings.docker.user', /user name/],
    [
      'build_config unknown key',
      { build_config: { build_opts: {} } },
      'settings.docker.build_config.build_opts',
      /build_opts: unknown key `build_opts`; did you mean `build_options`\?/,
    ],
    [
      'build option unknown',
      { build_config: { build_options: { nocahce: true } } },
      'settings.docker.build_config.build_options.nocahce',
      /unknown build option `nocahce`; did you mean `nocache`\? Known options: buildArgs/,
    ],
    [
      'build option wrong type',
      { build_config: { build_options: { nocache: 'yes' } } },
      'settings.docker.build_config.build_options.nocache',
      /expected true or false/,
    ],
    [
      'build option reserved',
      { parent_image_build_config: { build_options: { tag: 'x' } } },
      'settings.docker.parent_image_build_config.build_options.tag',
      /set by zenbuild/,
    ],
    [
      'source_files bad mode',
      { source_files: 'sometimes' },
      'settings.docker.source_files',
      /Invalid source file mode/,
    ],
    ['skip_build without parent', { skip_build: true }, 'settings.docker.skip_build', /parent image/],
    [
      'install command without files',
      { local_project_install_command: 'pip install .', allow_including_files_in_images: false },
      'settings.docker.local_project_install_command',
      /Files must be included|files must be included/,
    ],
  ];

  it.each(cases)('rejects %s with the full path', (_name, docker, path, message) => {
    const error = errorOf(() => resolve(docker));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain(path);
    expect(error.message).toMatch(message);
  });

  it('names the step when a step-level value is wrong', () => {
    const error = errorOf(() =>
      resolveDockerSettings({ pipeline: {}, steps: { trainer: { apt_packages: ['ok', 'B A D'] } }, env: {} }),
    );
    expect(error.message).toContain('steps.trainer.settings.docker.apt_packages[1]');
  });

  it('reports a step-level skip_build without parent_image at the step', () => {
    const error = errorOf(() =>
      resolveDockerSettings({ pipeline: {}, steps: { s: { skip_build: true } }, env: {} }),
    );
    expect(error.message).toContain('steps.s.settings.docker.skip_build');
  });

  it('puts each unknown key of one mapping under its own path, with its own hint', () => {
    const error = errorOf(() => resolve({ requirement: ['a'], apt_pakages: ['b'], zzz: 1 }));
    expect(error.details.problems).toEqual([
      'settings.docker.requirement: unknown key `requirement`; did you mean `requirements`?',
      'settings.docker.apt_pakages: unknown key `apt_pakages`; did you mean `apt_packages`?',
      'settings.docker.zzz: unknown key `zzz`',
    ]);
  });

  it('lists every problem of a level at once', () => {
    const error = errorOf(() => resolve({ skip_build: 'x', apt_packages: [1] }));
    expect(error.details.problems).toHaveLength(2);
  });
});

describe('deprecated settings', () => {
  it('migrates source_files to the allow flags (never artifact-store download)', () => {
    const modes: Record<string, [boolean, boolean, boolean]> = {
      download: [false, true, false],
      include: [true, false, false],
      download_or_include: [true, true, false],
      ignore: [false, false, false],
    };
    for (const [mode, [include, repo, store]] of Object.entries(modes)) {
      const { pipeline, warnings } = resolve({ source_files: mode });
      expect([
        pipeline.allowIncludingFilesInImages,
        pipeline.allowDownloadFromCodeRepository,
        pipeline.allowDownloadFromArtifactStore,
      ]).toEqual([include, repo, store]);
      expect(warnings.some((w) => w.message.includes('deprecated'))).toBe(true);
    }
  });

  it('ignores source_files when an allow flag is given, and says so', () => {
    const { pipeline, warnings } = resolve({
      source_files: 'ignore',
      allow_download_from_artifact_store: true,
    });
    expect(pipeline.allowIncludingFilesInImages).toBe(true);
    expect(warnings.map((w) => w.message).join()).toMatch(/ignored/);
  });

  it('moves build_options to parent_image_build_config.build_options', () => {
    const { pipeline } = resolve({ build_options: { buildargs: { V: '1' } } });
    expect(pipeline.parentImageBuildConfig?.buildOptions).toEqual({ buildArgs: { V: '1' } });
  });

  it('keeps parent_image_build_config over the deprecated build_options', () => {
    const { pipeline, warnings } = resolve({
      build_options: { nocache: true },
      parent_image_build_config: { build_options: { pull: true } },
    });
    expect(pipeline.parentImageBuildConfig?.buildOptions).toEqual({ pull: true });
    expect(warnings.map((w) => w.message).join()).toMatch(/ignored/);
  });

  it('moves dockerignore to build_config.dockerignore', () => {
    const { pipeline } = resolve({
      dockerignore: 'my.dockerignore',
      build_config: { build_options: { pull: false } },
    });
    expect(pipeline.buildConfig).toEqual({ buildOptions: { pull: false }, dockerignore: 'my.dockerignore' });
  });

  it('drops copy_files, copy_global_config and hub plugins with a warning', () => {
    const { pipeline, warnings } = resolve({
      copy_files: false,
      copy_global_config: true,
      required_hub_plugins: ['x'],
    });
    expect(pipeline).not.toHaveProperty('copyFiles');
    expect(warnings).toHaveLength(3);
  });

  it('warns that a replicate command is deprecated', () => {
    const { warnings } = resolve({ replicate_local_python_environment: ['pip', 'list'] });
    expect(warnings[0]?.message).toMatch(/pyproject_path/);
  });
});

describe('settings from a pipeline file', () => {
  it('warns that parent_image is ignored next to a dockerfile', () => {
    const p = dockerPipeline({ parent_image: 'python:3.11', dockerfile: 'Dockerfile' });
    expect(p.warnings.map((w) => w.message).join()).toMatch(/parent_image` is ignored/);
  });

  it('warns when an env name is not upper case instead of upper-casing it', () => {
    const p = dockerPipeline({ environment: { lower: 'x' } });
    expect(p.settings.environment).toEqual({ lower: 'x' });
    expect(p.warnings.map((w) => w.message).join()).toMatch(/ZenML would upper-case/);
  });
});
