import { realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  dockerPipeline,
  errorOf,
  localRegistryStack,
  onlyImage,
  pipeline,
  plan,
  project,
  stack,
} from '../__fixtures__/pipeline.js';
import { BUILTIN_INTEGRATIONS } from '../catalog/integrations.js';
import { describePlan } from './describe.js';
import { collectClientInputs, REQUIREMENT_FILE_NAMES, runCommand } from './requirements.js';

const awsStack = () =>
  stack({
    components: {
      image_builder: { flavor: 'aws', config: { code_build_project: 'p' } },
      container_registry: { flavor: 'aws', uri: '123456789012.dkr.ecr.eu-west-1.amazonaws.com' },
      artifact_store: { flavor: 's3', path: 's3://bucket/zenml' },
    },
  });

describe('the decision table', () => {
  it('skip_build: uses the parent image, builds nothing', () => {
    const image = onlyImage(
      plan(dockerPipeline({ parent_image: 'reg:5000/ml/rt:1', skip_build: true, apt_packages: ['git'] })),
    );
    expect(image).toMatchObject({ decision: 'skip', image: 'reg:5000/ml/rt:1', builds: [] });
    expect(image.dockerfile).toBeUndefined();
  });

  it('nothing to add to a custom parent: the parent is used as it is', () => {
    const p = plan(dockerPipeline({ parent_image: 'python:3.11-slim' }));
    expect(onlyImage(p)).toMatchObject({ decision: 'parent', image: 'python:3.11-slim' });
    expect(p.builds).toEqual([]);
  });

  it('nothing to add and no parent: an error, not a useless build', () => {
    const error = errorOf(() => plan(dockerPipeline({})));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toMatch(/nothing to build or run/);
  });

  it('something to add: one build of the generated Dockerfile', () => {
    const p = plan(dockerPipeline({ requirements: ['pandas'] }), {
      zenmlVersion: '0.90.0',
      pythonVersion: '3.12',
    });
    const image = onlyImage(p);
    expect(image.decision).toBe('generated');
    expect(image.parentImage).toBe('zenmldocker/zenml:0.90.0-py3.12');
    expect(p.builds.map((b) => b.role)).toEqual(['image']);
  });

  it('custom dockerfile with nothing to add: one build of it, as the target', () => {
    const dir = project({ 'Dockerfile.base': 'FROM busybox\n' });
    const p = plan(dockerPipeline({ dockerfile: 'Dockerfile.base', install_stack_requirements: false }, dir));
    const image = onlyImage(p);
    expect(image).toMatchObject({
      decision: 'dockerfile',
      image: 'zenml:training-orchestrator',
      dockerfile: 'FROM busybox\n',
    });
    expect(p.builds).toHaveLength(1);
    expect(p.builds[0]?.context).toEqual({ files: [{ path: 'Dockerfile', content: 'FROM busybox\n' }] });
  });

  it('custom dockerfile plus additions: a local intermediate, then the generated image on it', () => {
    const dir = project({ 'docker/Dockerfile': 'FROM busybox\n', 'ctx/file.txt': 'x', 'ctx/.ignore': '' });
    const p = plan(
      dockerPipeline(
        {
          dockerfile: 'docker/Dockerfile',
          build_context_root: 'ctx',
          requirements: ['a'],
          parent_image_build_config: {
            build_options: { buildargs: { V: '1' } },
            dockerignore: 'ctx/.ignore',
          },
        },
        dir,
      ),
      { stack: localRegistryStack() },
    );
    const [parent, image] = p.builds;
    expect(onlyImage(p).decision).toBe('dockerfile+generated');
    expect(parent).toMatchObject({
      role: 'parent',
      imageName: 'zenml:training-orchestrator-intermediate-build',
      push: false,
      options: { buildArgs: { V: '1' } },
      context: { root: path.join(dir, 'ctx'), dockerignore: path.join(dir, 'ctx/.ignore') },
    });
    expect(image).toMatchObject({
      role: 'image',
      imageName: '127.0.0.1:5000/zenml:training-orchestrator',
      parentImage: 'zenml:training-orchestrator-intermediate-build',
      push: true,
      dependsOn: [parent?.id],
      pullPolicy: 'never',
    });
    expect(image?.dockerfile.startsWith('FROM zenml:training-orchestrator-intermediate-build\n')).toBe(true);
  });

  it('custom dockerfile on a remote builder: the intermediate is pushed to the registry', () => {
    const dir = project({ Dockerfile: 'FROM busybox\n' });
    const p = plan(dockerPipeline({ dockerfile: 'Dockerfile', requirements: ['a'] }, dir), {
      stack: awsStack(),
    });
    expect(p.builds[0]).toMatchObject({
      imageName:
        '123456789012.dkr.ecr.eu-west-1.amazonaws.com/zenml:training-orchestrator-intermediate-build',
      push: true,
    });
    expect(p.builds[1]?.pullPolicy).toBe('always');
  });

  it('a missing custom dockerfile is an error naming it', () => {
    const error = errorOf(() => plan(dockerPipeline({ dockerfile: 'nope/Dockerfile' })));
    expect(error.message).toMatch(
      /settings\.docker\.dockerfile: the Dockerfile .*nope\/Dockerfile does not exist/,
    );
  });

  it('a custom dockerfile that is a directory says so', () => {
    const dir = project({ 'docker/Dockerfile/x': '' });
    const error = errorOf(() => plan(dockerPipeline({ dockerfile: 'docker/Dockerfile' }, dir)));
    expect(error.message).toMatch(
      /settings\.docker\.dockerfile: the Dockerfile .* is a directory, not a file/,
    );
  });

  it('a build_context_root that is not a directory is an error', () => {
    const dir = project({ Dockerfile: 'FROM busybox\n' });
    const error = errorOf(() =>
      plan(dockerPipeline({ dockerfile: 'Dockerfile', build_context_root: 'missing' }, dir)),
    );
    expect(error.message).toMatch(/^settings\.docker\.build_context_root: .*missing does not exist\.$/);
    const onFile = errorOf(() =>
      plan(dockerPipeline({ dockerfile: 'Dockerfile', build_context_root: 'Dockerfile' }, dir)),
    );
    expect(onFile.message).toMatch(/Dockerfile is a file, not a directory\.$/);
  });
});

describe('naming and keys', () => {
  it('names images <registry>/<repository>:<pipeline>[-<step>]-orchestrator', () => {
    const p = plan(
      pipeline({
        settings: { docker: { parent_image: 'python:3.11', apt_packages: ['git'] } },
        steps: { trainer: { settings: { docker: { apt_packages: ['curl'] } } }, loader: {} },
      }),
      { stack: localRegistryStack() },
    );
    expect(Object.keys(p.images)).toEqual(['trainer.orchestrator', 'orchestrator']);
    expect(p.images['trainer.orchestrator']?.image).toBe(
      '127.0.0.1:5000/zenml:training-trainer-orchestrator',
    );
    expect(p.images.orchestrator?.image).toBe('127.0.0.1:5000/zenml:training-orchestrator');
    expect(p.steps).toEqual({ trainer: 'trainer.orchestrator', loader: 'orchestrator' });
  });

  it('uses target_repository, the registry default repository, and image_tag', () => {
    const s = stack({
      components: { container_registry: { flavor: 'default', uri: 'reg:5000', default_repository: 'team' } },
    });
    expect(
      onlyImage(plan(dockerPipeline({ parent_image: 'p:1', apt_packages: ['git'] }), { stack: s })).image,
    ).toBe('reg:5000/team:training-orchestrator');
    expect(
      onlyImage(
        plan(
          dockerPipeline({
            parent_image: 'p:1',
            apt_packages: ['git'],
            target_repository: 'ml/img',
            image_tag: 'v2',
          }),
          { stack: s },
        ),
      ).image,
    ).toBe('reg:5000/ml/img:v2');
  });

  it('builds images with equal settings once', () => {
    const docker = { parent_image: 'python:3.11', apt_packages: ['curl'] };
    const p = plan(
      pipeline({
        settings: { docker: { parent_image: 'python:3.11' } },
        steps: { a: { settings: { docker } }, b: { settings: { docker } } },
      }),
    );
    expect(p.images['b.orchestrator']).toMatchObject({
      sameAs: 'a.orchestrator',
      image: 'zenml:training-a-orchestrator',
      builds: [],
    });
    expect(p.builds.map((b) => b.id)).toEqual(['a.orchestrator']);
  });

  it('as JSON, an image with the same settings as another names it and repeats none of its contents', () => {
    const docker = { parent_image: 'python:3.11', apt_packages: ['curl'], requirements: ['pandas'] };
    const p = plan(
      pipeline({
        settings: { docker: { parent_image: 'python:3.11' } },
        steps: { a: { settings: { docker } }, b: { settings: { docker } } },
      }),
    );
    const images = describePlan(p).images as Record<string, Record<string, unknown>>;
    expect(images['a.orchestrator']).toMatchObject({
      sameAs: null,
      aptPackages: ['curl'],
      requirements: 'pandas',
    });
    expect(images['a.orchestrator']?.dockerfile).toMatch(/^FROM python:3\.11\n/);
    expect(images['b.orchestrator']).toMatchObject({
      sameAs: 'a.orchestrator',
      step: 'b',
      image: 'zenml:training-a-orchestrator',
      settingsChecksum: p.images['a.orchestrator']?.settingsChecksum,
    });
    for (const shared of [
      'dockerfile',
      'requirements',
      'requirementFiles',
      'aptPackages',
      'parentImage',
      'tag',
    ])
      expect(images['b.orchestrator']).not.toHaveProperty(shared);
  });
});

describe('requirements', () => {
  it("gathers files in ZenML's order: local env, stack, integrations, pyproject, user", () => {
    const dir = project({ 'pyproject.toml': '[project]\nname="x"\n' });
    const p = dockerPipeline(
      {
        parent_image: 'python:3.11',
        replicate_local_python_environment: true,
        required_integrations: ['sklearn', 'lightgbm'],
        pyproject_path: 'pyproject.toml',
        pyproject_export_command: ['export', '{directory}'],
        requirements: ['user-req'],
      },
      dir,
    );
    const image = onlyImage(
      plan(p, {
        stack: awsStack(),
        clientInputs: { commandOutputs: { 'pip freeze': 'frozen==1', [`export ${dir}`]: 'exported==2' } },
      }),
    );
    expect(image.requirementFiles.map((f) => f.name)).toEqual([
      REQUIREMENT_FILE_NAMES.local,
      REQUIREMENT_FILE_NAMES.stack,
      REQUIREMENT_FILE_NAMES.integrations,
      REQUIREMENT_FILE_NAMES.pyproject,
      REQUIREMENT_FILE_NAMES.user,
    ]);
    expect(image.requirementFiles.map((f) => f.content)).toEqual([
      'frozen==1',
      [
        ...new Set([
          ...(BUILTIN_INTEGRATIONS.aws?.requirements ?? []),
          ...(BUILTIN_INTEGRATIONS.s3?.requirements ?? []),
        ]),
      ]
        .sort()
        .join('\n'),
      'lightgbm>=1.0.0\nscikit-learn',
      'exported==2',
      'user-req',
    ]);
    expect(image.aptPackages).toEqual(['libgomp1']);
    expect(image.requirements).toBe(image.requirementFiles.map((f) => f.content).join('\n'));
  });

  it('install_stack_requirements: false leaves stack requirements out', () => {
    const image = onlyImage(
      plan(dockerPipeline({ parent_image: 'p:1', install_stack_requirements: false, requirements: ['a'] }), {
        stack: awsStack(),
      }),
    );
    expect(image.requirementFiles.map((f) => f.name)).toEqual([REQUIREMENT_FILE_NAMES.user]);
  });

  it('reads a requirements file relative to the config file', () => {
    const dir = project({ 'reqs/requirements.txt': 'numpy==2.0\n' });
    const image = onlyImage(
      plan(dockerPipeline({ parent_image: 'p:1', requirements: 'reqs/requirements.txt' }, dir)),
    );
    expect(image.requirementFiles[0]?.content).toBe('numpy==2.0\n');
  });

  it('a missing requirements file is an error naming it', () => {
    const error = errorOf(() => plan(dockerPipeline({ parent_image: 'p:1', requirements: 'nope.txt' })));
    expect(error.message).toMatch(
      /settings\.docker\.requirements: requirements file .*nope\.txt does not exist/,
    );
  });

  it('an unknown integration lists the known ones', () => {
    const error = errorOf(() =>
      plan(dockerPipeline({ parent_image: 'p:1', required_integrations: ['sklearn', 'tensorfloww'] })),
    );
    expect(error.message).toContain(
      'settings.docker.required_integrations[1]: unknown integration `tensorfloww`',
    );
    expect(error.message).toContain('tensorflow');
  });

  it('detects requirements.txt in the source root when detection is enabled', () => {
    const dir = project({ 'requirements.txt': 'auto==1\n', 'pyproject.toml': '' });
    const on = onlyImage(
      plan(dockerPipeline({ parent_image: 'p:1', disable_automatic_requirements_detection: false }, dir)),
    );
    expect(on.requirementFiles.map((f) => f.content)).toEqual(['auto==1\n']);
    const off = onlyImage(plan(dockerPipeline({ parent_image: 'p:1' }, dir)));
    expect(off.decision).toBe('parent');
  });

  it('asks for client inputs it was not given instead of running commands', () => {
    const error = errorOf(() =>
      plan(dockerPipeline({ parent_image: 'p:1', replicate_local_python_environment: 'pip_freeze' })),
    );
    expect(error.message).toMatch(/needs the output of `pip freeze`/);
  });

  it('collectClientInputs runs each command once and tries alternatives in order', async () => {
    const dir = project({ 'pyproject.toml': '' });
    const settings = dockerPipeline(
      { parent_image: 'p:1', replicate_local_python_environment: true, pyproject_path: 'pyproject.toml' },
      dir,
    ).settings;
    const ran: string[] = [];
    const inputs = await collectClientInputs(
      [
        { settings, baseDir: dir, sourceRoot: dir },
        { settings, baseDir: dir, sourceRoot: dir },
      ],
      async (command) => {
        ran.push(command[0] ?? '');
        if (command[0] === 'uv') throw Object.assign(new Error('spawn uv ENOENT'), { code: 'ENOENT' });
        return `${command[0]} output`;
      },
    );
    expect(ran).toEqual(['pip', 'uv', 'poetry']);
    expect(Object.values(inputs.commandOutputs)).toEqual(['pip output', 'poetry output']);
  });

  it('runCommand runs the program in the directory given, and a failure carries its stderr', async () => {
    const dir = realpathSync(project());
    expect(await runCommand(['pwd'], dir)).toBe(`${dir}\n`);
    await expect(
      runCommand(['sh', '-c', 'echo partial; echo broken >&2; exit 3'], dir),
    ).rejects.toMatchObject({
      code: 3,
      stdout: 'partial\n',
      stderr: 'broken\n',
    });
    await expect(runCommand(['zenbuild-no-such-program'], dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('collectClientInputs fails clearly when no export command works', async () => {
    const settings = dockerPipeline({
      parent_image: 'p:1',
      replicate_local_python_environment: true,
    }).settings;
    await expect(
      collectClientInputs([{ settings, baseDir: '.', sourceRoot: '.' }], async () => {
        throw Object.assign(new Error('x'), { stderr: 'pip: broken\n' });
      }),
    ).rejects.toThrow(/Unable to export local python packages: `pip freeze`: pip: broken/);
  });
});

describe('pull policy and options', () => {
  it("never pulls ZenML's default parent; pulls custom parents unless local", () => {
    expect(plan(dockerPipeline({ requirements: ['a'] })).builds[0]?.pullPolicy).toBe('never');
    expect(plan(dockerPipeline({ parent_image: 'p:1', requirements: ['a'] })).builds[0]?.pullPolicy).toBe(
      'if-not-local',
    );
    expect(
      plan(dockerPipeline({ parent_image: 'p:1', requirements: ['a'] }), { stack: awsStack() }).builds[0]
        ?.pullPolicy,
    ).toBe('always');
  });

  it('lets build_config.build_options.pull override the policy', () => {
    const p = plan(
      dockerPipeline({
        parent_image: 'p:1',
        requirements: ['a'],
        build_config: { build_options: { pull: false, nocache: true } },
      }),
    );
    expect(p.builds[0]).toMatchObject({ pullPolicy: 'never', options: { pull: false, noCache: true } });
  });

  it('build_config.dockerignore resolves against the config directory', () => {
    const dir = project({ 'x.ignore': '' });
    const p = plan(
      dockerPipeline(
        { parent_image: 'p:1', allow_download_from_artifact_store: false, dockerignore: 'x.ignore' },
        dir,
      ),
    );
    expect(p.builds[0]?.context).toMatchObject({ root: dir, dockerignore: path.join(dir, 'x.ignore') });
  });

  it('a dockerignore file that is not there is an error naming its field, before anything is walked', () => {
    const dir = project();
    const error = errorOf(() =>
      plan(
        dockerPipeline(
          { parent_image: 'p:1', allow_download_from_artifact_store: false, dockerignore: 'x.ignore' },
          dir,
        ),
      ),
    );
    expect(error.message).toMatch(
      /^settings\.docker\.build_config\.dockerignore: the dockerignore file .*x\.ignore does not exist\.$/,
    );
    expect(error.details).toMatchObject({ path: 'settings.docker.build_config.dockerignore' });
    const parent = errorOf(() =>
      plan(
        dockerPipeline(
          {
            dockerfile: 'Dockerfile',
            parent_image_build_config: { dockerignore: 'parent.ignore' },
            allow_download_from_artifact_store: false,
          },
          project({ Dockerfile: 'FROM busybox\n' }),
        ),
      ),
    );
    expect(parent.message).toMatch(
      /^settings\.docker\.parent_image_build_config\.dockerignore: the dockerignore file/,
    );
  });
});

describe('checksums', () => {
  const base = { parent_image: 'python:3.11', requirements: ['a'] };
  const checksum = (docker: Record<string, unknown>, dir?: string) =>
    onlyImage(plan(dockerPipeline(docker, dir))).settingsChecksum;

  it('is stable for equal settings', () => {
    expect(checksum(base)).toBe(checksum({ ...base }));
  });

  it('ignores prevent_build_reuse', () => {
    expect(checksum({ ...base, prevent_build_reuse: true })).toBe(checksum(base));
  });

  it.each([
    ['parent_image', { parent_image: 'python:3.12' }],
    ['requirements', { requirements: ['b'] }],
    ['apt_packages', { apt_packages: ['git'] }],
    ['environment', { environment: { A: '1' } }],
    ['runtime_environment', { runtime_environment: { A: '1' } }],
    ['user', { user: 'app' }],
    ['build options', { build_config: { build_options: { nocache: true } } }],
    ['installer', { python_package_installer: 'pip' }],
  ])('changes with %s', (_name, change) => {
    expect(checksum({ ...base, ...change })).not.toBe(checksum(base));
  });

  it('changes with the content of a requirements file and of a custom Dockerfile', () => {
    const dir = project({ 'r.txt': 'a==1\n', Dockerfile: 'FROM busybox\n' });
    const docker = { requirements: 'r.txt', dockerfile: 'Dockerfile' };
    const before = checksum(docker, dir);
    writeFileSync(path.join(dir, 'r.txt'), 'a==2\n');
    const afterRequirements = checksum(docker, dir);
    writeFileSync(path.join(dir, 'Dockerfile'), 'FROM busybox:2\n');
    expect(new Set([before, afterRequirements, checksum(docker, dir)]).size).toBe(3);
  });

  it("covers stack apt packages and requirements (ZenML's checksum leaves them out)", () => {
    const docker = { parent_image: 'p:1', requirements: ['a'] };
    const local = onlyImage(plan(dockerPipeline(docker))).settingsChecksum;
    const aws = onlyImage(plan(dockerPipeline(docker), { stack: awsStack() })).settingsChecksum;
    expect(aws).not.toBe(local);
  });

  it("the plan's settings checksum changes when any image changes", () => {
    const p1 = plan(
      pipeline({ settings: { docker: base }, steps: { s: { settings: { docker: { user: 'a' } } } } }),
    );
    const p2 = plan(
      pipeline({ settings: { docker: base }, steps: { s: { settings: { docker: { user: 'b' } } } } }),
    );
    expect(p1.settingsChecksum).not.toBe(p2.settingsChecksum);
  });
});
