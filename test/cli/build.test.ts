import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { repoRoot, tempHome, zenbuild, zenbuildAsync } from '../helpers/cli.js';
import { expectPushedDigest } from '../helpers/pushed.js';
import { runInImage, runInPodman } from '../infra/dockerd.js';

const { open, auth, user, password } = inject('registries');
const baseImage = inject('baseImage');
const podmanBaseImage = inject('podmanBaseImage');
// This package has @zenbuild/docker installed, as a user's project would.
const project = path.join(repoRoot, 'test');

/** A project with code, a pipeline config and a stack pushing to `registry` (none: the default stack). */
function setup(docker: Record<string, unknown>, registry?: { uri: string; credentials?: boolean }) {
  const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-build-'));
  mkdirSync(path.join(dir, 'src'));
  writeFileSync(path.join(dir, '.zen'), '');
  writeFileSync(path.join(dir, 'src/train.py'), `print("trained ${Math.random()}")\n`);
  const name = `e2e${Math.random().toString(36).slice(2, 8)}`;
  writeFileSync(
    path.join(dir, 'pipeline.yaml'),
    JSON.stringify({ name, settings: { docker: { parent_image: baseImage, ...docker } } }),
  );
  const stackArgs: string[] = [];
  if (registry) {
    writeFileSync(
      path.join(dir, 'stack.yaml'),
      JSON.stringify({
        name: 'e2e-stack',
        components: {
          container_registry: {
            flavor: 'default',
            uri: registry.uri,
            ...(registry.credentials
              ? { credentials: { username: user, password: '${REGISTRY_PASSWORD}' } }
              : {}),
          },
        },
      }),
    );
    stackArgs.push('--stack', path.join(dir, 'stack.yaml'));
  }
  const home = tempHome();
  const build = (args: string[] = [], env: NodeJS.ProcessEnv = {}) =>
    zenbuild(
      ['build', path.join(dir, 'pipeline.yaml'), ...stackArgs, ...args],
      { ZENBUILD_HOME: home, ...env },
      project,
    );
  return { dir, home, name, build };
}

const phases = (stderr: string) =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
    .filter((e) => e.type === 'phase')
    .map((e) => e.phase);

describe('zenbuild build with the local image builder on Docker', () => {
  it('builds, pushes, records, and the image holds the code, environment and user', async () => {
    const { build, name } = setup(
      {
        allow_download_from_artifact_store: false,
        // A backslash before $ keeps it literal; a bare $VAR expands as in ZenML's raw ENV lines.
        environment: { MODEL_DIR: '/models', GREETING: 'say "hi" to \\$HOME in $MODEL_DIR' },
        runtime_environment: { LOG_LEVEL: 'info' },
        user: 'app',
      },
      { uri: open },
    );
    const result = build(['--json', '--progress', 'plain']);
    expect(result.stderr).not.toMatch(/zenbuild:/);
    expect(result.code).toBe(0);
    const record = JSON.parse(result.stdout);
    expect(record).toMatchObject({
      pipeline: name,
      stack: 'e2e-stack',
      registry: open,
      reused: false,
      containsCode: true,
    });
    const image = record.images.orchestrator;
    await expectPushedDigest(image, open);
    const inside = runInImage(image.image, [
      'sh',
      '-c',
      'id -un; echo "$MODEL_DIR|$GREETING|$LOG_LEVEL"; cat /app/src/train.py; stat -c %U /app/src/train.py',
    ]);
    expect(inside).toMatch(
      /^app\n\/models\|say "hi" to \$HOME in \/models\|info\nprint\("trained [\d.]+"\)\napp\n$/,
    );
    // BuildKit's steps, numbered as `docker build --progress=plain` numbers them.
    expect(result.stderr).toMatch(/\[orchestrator\] #\d+ \[\d+\/\d+\] FROM /);
    // The context's upload, as the docker CLI's "Sending build context": here only its end, it is small.
    expect(result.stderr).toMatch(/\[orchestrator\] context: [\d.]+ (B|KiB|MiB) sent, done\n/);
  });

  it('reuses the build on the second run and starts no engine build; --no-reuse builds again', () => {
    const { build } = setup({ environment: { A: '1' } }, { uri: open });
    const first = JSON.parse(build(['--json']).stdout);
    const second = build(['--json', '--progress', 'json']);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ id: first.id, reused: true, images: first.images });
    expect(phases(second.stderr)).toEqual([]);
    expect(second.stderr).toContain(`Reusing build ${first.id}`);
    const forced = build(['--json', '--progress', 'json', '--no-reuse']);
    expect(JSON.parse(forced.stdout).reused).toBe(false);
    expect(phases(forced.stderr)).toEqual(['start', 'build', 'push', 'done']);
  });

  it('keeps zenbuild’s home out of the image when it lies inside the project, and reuses the build', () => {
    const { dir, build } = setup({ allow_download_from_artifact_store: false }, { uri: open });
    const env = { ZENBUILD_HOME: path.join(dir, '.zenbuild') };
    const first = JSON.parse(build(['--json'], env).stdout);
    const image = first.images.orchestrator.image;
    expect(runInImage(image, ['sh', '-c', 'ls -A /app'])).toBe(
      '.zen\nDockerfile\npipeline.yaml\nsrc\nstack.yaml\n',
    );
    // The first build wrote its record and digest cache into the home: the context must not change.
    const second = JSON.parse(build(['--json'], env).stdout);
    expect(second).toMatchObject({ id: first.id, reused: true });
  });

  it('a failing RUN exits 1 with the step’s output, and records nothing', () => {
    const { build, home } = setup(
      { local_project_install_command: 'echo installing-now && exit 3' },
      { uri: open },
    );
    const result = build();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('installing-now');
    // BuildKit's words for it (Docker 20.10: "executor failed running [...]: exit code: 3").
    expect(result.stderr).toMatch(
      /zenbuild: Building .* failed: .*echo installing-now && exit 3.*exit code: 3/,
    );
    expect(result.stderr).toMatch(/#\d+ ERROR: /);
    expect(zenbuild(['builds', 'list', '--json'], { ZENBUILD_HOME: home }).stdout).toContain('"builds": []');
  });

  it('pushes to a registry with auth using the stack credentials, and a wrong password exits 3 without showing it', () => {
    const { build } = setup({ environment: { B: '2' } }, { uri: auth, credentials: true });
    const ok = build(['--json'], { REGISTRY_PASSWORD: password });
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).images.orchestrator.image).toMatch(
      new RegExp(`^${auth.replace('.', '\\.')}/zenml@sha256:`),
    );
    const wrong = build(['--no-reuse'], { REGISTRY_PASSWORD: 'wrong-password-4711' });
    expect(wrong.code).toBe(3);
    // Found by a login before the build, as `docker login` would find it: nothing was built.
    expect(wrong.stderr).toMatch(/refused the credentials from the stack registry credentials/);
    expect(wrong.stderr).not.toMatch(/Building \d image/);
    expect(wrong.stdout + wrong.stderr).not.toContain('wrong-password-4711');
  });

  it('without a registry the image stays local, and is reused while the engine has it', () => {
    const { build, name } = setup({ environment: { C: '3' } });
    const first = JSON.parse(build(['--json']).stdout);
    expect(first.images.orchestrator.image).toBe(`zenml:${name}-orchestrator`);
    expect(runInImage(first.images.orchestrator.image, ['sh', '-c', 'echo $C'])).toBe('3\n');
    expect(JSON.parse(build(['--json']).stdout).reused).toBe(true);
  });

  it('a podman reuse hit without a registry runs three podman queries at once and nothing after them', () => {
    const { dir, build } = setup({});
    writeFileSync(
      path.join(dir, 'pipeline.yaml'),
      JSON.stringify({
        name: 'podman-reuse',
        settings: { docker: { parent_image: podmanBaseImage, environment: { RUN: String(Math.random()) } } },
      }),
    );
    expect(build([], { ZENML_CONTAINER_ENGINE: 'podman' }).code).toBe(0);
    // podman behind a wrapper that logs each command with its start and end, in ms.
    const bin = mkdtempSync(path.join(tmpdir(), 'zenbuild-podman-log-'));
    const log = path.join(bin, 'log');
    const podman = spawnSync('sh', ['-c', 'command -v podman'], { encoding: 'utf8' }).stdout.trim();
    writeFileSync(
      path.join(bin, 'podman'),
      `#!/bin/sh\ns=$(date +%s%3N)\n${podman} "$@"\nrc=$?\necho "$s $(date +%s%3N) $1 $2" >> ${log}\nexit $rc\n`,
      { mode: 0o755 },
    );
    const second = build([], { ZENML_CONTAINER_ENGINE: 'podman', PATH: `${bin}:${process.env.PATH}` });
    expect(second.stderr).toContain('Reusing build');
    const commands = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.split(' '));
    // The availability check, the parent's inspect and the inspect of the recorded image.
    expect(commands.map(([, , verb, what]) => `${verb} ${what}`).sort()).toEqual([
      'image inspect',
      'image inspect',
      'version --format',
    ]);
    // All started before the first ended: beside each other, not one after the other.
    const firstEnd = Math.min(...commands.map(([, end]) => Number(end)));
    for (const [start] of commands) expect(Number(start)).toBeLessThanOrEqual(firstEnd);
  });

  it('builds a custom Dockerfile first, then the generated image on top of it', () => {
    const { dir, build } = setup({}, { uri: open });
    writeFileSync(path.join(dir, 'Base.Dockerfile'), `FROM ${baseImage}\nRUN echo base-layer > /base\n`);
    writeFileSync(
      path.join(dir, 'pipeline.yaml'),
      JSON.stringify({
        name: 'custom',
        settings: { docker: { dockerfile: 'Base.Dockerfile', environment: { D: '4' } } },
      }),
    );
    const result = build(['--json', '--progress', 'plain']);
    expect(result.code).toBe(0);
    const image = JSON.parse(result.stdout).images.orchestrator.image;
    expect(runInImage(image, ['sh', '-c', 'cat /base; echo $D'])).toBe('base-layer\n4\n');
    expect(result.stderr.indexOf('[orchestrator:parent] done')).toBeLessThan(
      result.stderr.indexOf('[orchestrator] start'),
    );
  });

  it('refuses an option the engine cannot honour before building anything, naming the image and field', () => {
    const { dir, build, home } = setup({}, { uri: open });
    writeFileSync(path.join(dir, 'Base.Dockerfile'), `FROM ${baseImage}\nRUN echo base-layer > /base\n`);
    writeFileSync(
      path.join(dir, 'pipeline.yaml'),
      JSON.stringify({
        name: 'refused',
        settings: {
          docker: {
            dockerfile: 'Base.Dockerfile',
            environment: { D: '4' },
            build_config: { build_options: { squash: true } },
          },
        },
      }),
    );
    // The custom Dockerfile's image would build first; the refusal of the image on top comes before it.
    const result = build(['--progress', 'json', '--concurrency', '1']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'zenbuild: settings.docker.build_config.build_options (image `orchestrator`): The docker engine does not support the build option `squash`',
    );
    expect(phases(result.stderr)).toEqual([]);
    expect(zenbuild(['builds', 'list', '--json'], { ZENBUILD_HOME: home }).stdout).toContain('"builds": []');
  });

  it('--build ID uses a recorded build, and an unknown id exits 2', () => {
    const { build } = setup({ environment: { E: '5' } }, { uri: open });
    const first = JSON.parse(build(['--json']).stdout);
    const given = build(['--json', '--build', first.id]);
    expect(JSON.parse(given.stdout)).toMatchObject({ id: first.id, reused: true });
    const unknown = build(['--build', '20990101T000000000Z-00000000']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no such build');
  });

  it('ZENML_CONTAINER_ENGINE=podman switches to Podman for the same pipeline and stack', () => {
    const { dir, build } = setup({ environment: { F: '6' } }, { uri: open });
    writeFileSync(
      path.join(dir, 'pipeline.yaml'),
      JSON.stringify({
        name: 'on-podman',
        settings: { docker: { parent_image: podmanBaseImage, environment: { F: '6' } } },
      }),
    );
    const result = build(['--json', '--progress', 'plain'], { ZENML_CONTAINER_ENGINE: 'podman' });
    expect(result.stderr).not.toMatch(/zenbuild:/);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('[orchestrator] build: podman');
    expect(result.stderr).toMatch(/\[orchestrator\] context: [\d.]+ (B|KiB|MiB) written, done\n/);
    const image = JSON.parse(result.stdout).images.orchestrator;
    expect(image.image).toMatch(/@sha256:[0-9a-f]{64}$/);
    expect(runInPodman(image.image, ['sh', '-c', 'echo $F'])).toBe('6\n');
  });

  it('builds and pushes with podman when DOCKER_CONFIG names a directory without config.json, as a CI job sets it before any login', () => {
    const { dir, build } = setup({}, { uri: open });
    writeFileSync(
      path.join(dir, 'pipeline.yaml'),
      JSON.stringify({
        name: 'empty-dc',
        settings: { docker: { parent_image: podmanBaseImage, environment: { RUN: String(Math.random()) } } },
      }),
    );
    // podman itself refuses that (`stat .../config.json: no such file or directory`); docker does not.
    const result = build(['--json'], {
      ZENML_CONTAINER_ENGINE: 'podman',
      DOCKER_CONFIG: mkdtempSync(path.join(tmpdir(), 'zenbuild-empty-dc-')),
    });
    expect(result.stderr).not.toMatch(/zenbuild:/);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).images.orchestrator.image).toMatch(/@sha256:[0-9a-f]{64}$/);
  });

  it('Docker and Podman put the same files into the image, with the same modes, owners and file times', () => {
    const { dir, build } = setup({});
    writeFileSync(path.join(dir, 'src/private.py'), 'key = 1\n', { mode: 0o600 });
    writeFileSync(path.join(dir, 'src/run.sh'), '#!/bin/sh\n', { mode: 0o750 });
    symlinkSync('train.py', path.join(dir, 'src/link.py'));
    mkdirSync(path.join(dir, 'src/empty'), { mode: 0o700 });
    const files = (parent: string, env: NodeJS.ProcessEnv, run: typeof runInImage) => {
      writeFileSync(
        path.join(dir, 'pipeline.yaml'),
        JSON.stringify({
          name: 'same-files',
          settings: { docker: { parent_image: parent, allow_download_from_artifact_store: false } },
        }),
      );
      const result = build(['--json'], env);
      expect(result.code).toBe(0);
      const image = JSON.parse(result.stdout).images.orchestrator.image;
      const list = 'cd /app && find . -mindepth 1 -exec stat -c "%n %a %u:%g %Y %F" {} + | sort';
      return run(image, ['sh', '-c', list]);
    };
    // A directory that holds files gets the time of the transfer under Docker's BuildKit (Docker 20.10's
    // fsutil writes the files after setting it), as with `docker build`; every other time is the context's.
    const dirTimes = (listing: string) => listing.replace(/ \d+ directory\n/g, ' <time> directory\n');
    const onDocker = files(baseImage, {}, runInImage);
    const onPodman = files(podmanBaseImage, { ZENML_CONTAINER_ENGINE: 'podman' }, runInPodman);
    expect(dirTimes(onPodman)).toBe(dirTimes(onDocker));
    // The context's own normalisation: owner root, time 0, modes 644/755, links kept as links.
    expect(onDocker).toContain('./src/private.py 644 0:0 0 regular file\n');
    expect(onDocker).toContain('./src/run.sh 755 0:0 0 regular file\n');
    expect(onDocker).toContain('./src/link.py 777 0:0 0 symbolic link\n');
    expect(onDocker).toContain('./src/empty 755 0:0 0 directory\n');
  });

  it('use_subprocess_call drives the docker CLI instead of the Engine API', () => {
    const { dir, build } = setup({ environment: { G: '8' } }, { uri: open });
    writeFileSync(
      path.join(dir, 'stack.yaml'),
      JSON.stringify({
        name: 'cli-mode',
        components: {
          image_builder: { flavor: 'local', config: { use_subprocess_call: true } },
          container_registry: { flavor: 'default', uri: open },
        },
      }),
    );
    const result = build(['--json', '--progress', 'plain'], { ZENML_CONTAINER_ENGINE: 'docker' });
    expect(result.stderr).not.toMatch(/zenbuild:/);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('[orchestrator] build: docker CLI');
    expect(result.stderr).toMatch(/\[orchestrator\] context: [\d.]+ (B|KiB|MiB) sent, done\n/);
    const image = JSON.parse(result.stdout).images.orchestrator.image;
    expect(runInImage(image, ['sh', '-c', 'echo $G'])).toBe('8\n');
  });

  it('exits 3 when the pinned engine is not available', () => {
    const { build } = setup({ environment: { F: '7' } });
    const result = build([], {
      ZENML_CONTAINER_ENGINE: 'docker',
      DOCKER_HOST: 'unix:///nonexistent/docker.sock',
    });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(
      'The requested container engine docker (ZENML_CONTAINER_ENGINE=docker) is not available',
    );
  });

  // SIGTERM is how CI cancels a job and how `timeout` ends one.
  it.each([
    ['Ctrl-C', 'SIGINT', 130],
    ['SIGTERM', 'SIGTERM', 143],
  ] as const)(
    '%s (%s) stops the running build, exits %i and records nothing',
    async (key, signal, exitCode) => {
      const { dir, home } = setup({ local_project_install_command: 'sleep 30' }, { uri: open });
      const started = Date.now();
      const result = await zenbuildAsync(
        [
          'build',
          path.join(dir, 'pipeline.yaml'),
          '--stack',
          path.join(dir, 'stack.yaml'),
          '--progress',
          'plain',
        ],
        { ZENBUILD_HOME: home },
        project,
        (stderr, child) => {
          if (stderr.includes('sleep 30') && !child.killed) child.kill(signal);
        },
      );
      expect(result.code).toBe(exitCode);
      expect(Date.now() - started).toBeLessThan(25_000);
      expect(result.stderr).toContain(`Stopping the running builds (${key} again to force)`);
      expect(result.stderr).toContain('cancelled');
      expect(zenbuild(['builds', 'list', '--json'], { ZENBUILD_HOME: home }).stdout).toContain(
        '"builds": []',
      );
    },
    60_000,
  );
});
