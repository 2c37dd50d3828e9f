import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { repoRoot, tempHome, zenbuild, zenbuildAsync } from '../helpers/cli.js';
import { commandLinesWith } from '../helpers/processes.js';

// Ctrl-C, SIGTERM and kill -9 in the two CLI modes, which run an engine CLI as a child process and give
// it the stack registry's password through a file: nothing of either may outlive zenbuild.
const { auth, user, password } = inject('registries');
const baseImage = inject('baseImage');
const podmanBaseImage = inject('podmanBaseImage');
const project = path.join(repoRoot, 'test');

const modes = [
  { mode: 'docker CLI', engine: 'docker', parent: baseImage, builder: { use_subprocess_call: true } },
  { mode: 'podman', engine: 'podman', parent: podmanBaseImage, builder: {} },
] as const;

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return condition();
}

/** A project whose build sleeps in a RUN step for a duration no other test uses, pushing with auth. */
function sleepingBuild(mode: { engine: string; parent: string; builder: Readonly<Record<string, unknown>> }) {
  const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-signals-'));
  const seconds = 3000 + Math.floor(Math.random() * 6000);
  writeFileSync(
    path.join(dir, 'pipeline.yaml'),
    JSON.stringify({
      name: `signals${seconds}`,
      settings: {
        docker: { parent_image: mode.parent, local_project_install_command: `sleep ${seconds}` },
      },
    }),
  );
  writeFileSync(
    path.join(dir, 'stack.yaml'),
    JSON.stringify({
      name: 'signals',
      components: {
        image_builder: { flavor: 'local', config: mode.builder },
        container_registry: { flavor: 'default', uri: auth, credentials: { username: user, password } },
      },
    }),
  );
  const temp = mkdtempSync(path.join(tmpdir(), 'zenbuild-signals-tmp-'));
  const env = { ZENBUILD_HOME: tempHome(), TMPDIR: temp, ZENML_CONTAINER_ENGINE: mode.engine };
  const args = ['build', path.join(dir, 'pipeline.yaml'), '--stack', path.join(dir, 'stack.yaml')];
  return { marker: `sleep ${seconds}`, temp, env, args: [...args, '--progress', 'plain'] };
}

/** Every file under `dir` that holds the registry password, in clear or as docker's base64 auth. */
function filesWithPassword(dir: string): string[] {
  const base64 = Buffer.from(`${user}:${password}`).toString('base64');
  const found: string[] = [];
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const file = path.join(at, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.isFile()) {
        const text = readFileSync(file, 'latin1');
        if (text.includes(password) || text.includes(base64)) found.push(file);
      }
    }
  };
  walk(dir);
  return found;
}

/** Podman's build containers from this image still in storage (`podman ps --external`). */
function podmanWorkingContainers(): string[] {
  const result = spawnSync(
    'podman',
    ['ps', '-a', '--external', '--format', '{{.ID}} {{.Image}} {{.Command}}'],
    {
      encoding: 'utf8',
    },
  );
  return result.stdout.split('\n').filter((line) => line.includes('buildah'));
}

describe.each(modes)('stopping a build in $mode mode', (mode) => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)(
    '%s stops the engine CLI and its RUN step, and leaves no credentials behind',
    async (signal, exitCode) => {
      const before = mode.engine === 'podman' ? podmanWorkingContainers().length : 0;
      const { marker, temp, env, args } = sleepingBuild(mode);
      let sawCredentials: string[] = [];
      const result = await zenbuildAsync(args, env, project, (stderr, child) => {
        if (stderr.includes(marker) && !child.killed) {
          // The credentials really were in a temp file while the build ran (else the test proves nothing).
          sawCredentials = filesWithPassword(temp);
          child.kill(signal);
        }
      });
      expect(result.code).toBe(exitCode);
      expect(sawCredentials.length).toBeGreaterThan(0);
      expect(await until(() => commandLinesWith(marker).length === 0, 15_000)).toBe(true);
      expect(readdirSync(temp)).toEqual([]);
      if (mode.engine === 'podman') {
        expect(await until(() => podmanWorkingContainers().length <= before, 15_000)).toBe(true);
      }
    },
    90_000,
  );

  it('kill -9 of zenbuild: the engine CLI and its step stop, and the next zenbuild sweeps the temp files', async () => {
    const { marker, temp, env, args } = sleepingBuild(mode);
    const result = await zenbuildAsync(args, env, project, (stderr, child) => {
      if (stderr.includes(marker) && !child.killed) child.kill('SIGKILL');
    });
    expect(result.code).toBe(null);
    expect(await until(() => commandLinesWith(marker).length === 0, 20_000)).toBe(true);
    // Nothing ran to remove the files: they are swept by the next zenbuild in that temp folder.
    const skip = path.join(mkdtempSync(path.join(tmpdir(), 'zenbuild-signals-')), 'skip.yaml');
    mkdirSync(path.dirname(skip), { recursive: true });
    writeFileSync(
      skip,
      JSON.stringify({ name: 'sweep', settings: { docker: { parent_image: 'x/y:1', skip_build: true } } }),
    );
    expect(zenbuild(['build', skip], { ...env }).code).toBe(0);
    expect(filesWithPassword(temp)).toEqual([]);
    expect(readdirSync(temp)).toEqual([]);
  }, 90_000);
});

describe('stopping a BuildKit build over the Engine API', () => {
  it('SIGINT stops the build and its RUN step in the daemon, exits 130 and records nothing', async () => {
    const { marker, env, args } = sleepingBuild({ engine: 'docker', parent: baseImage, builder: {} });
    const result = await zenbuildAsync(args, env, project, (stderr, child) => {
      if (stderr.includes(marker) && !child.killed) child.kill('SIGINT');
    });
    expect(result.code).toBe(130);
    expect(result.stderr).toMatch(/build: docker \(.*, BuildKit\)/);
    // BuildKit was told (`/build/cancel`), so the step's process goes, not only zenbuild's request.
    expect(await until(() => commandLinesWith(marker).length === 0, 15_000)).toBe(true);
    const builds = zenbuild(['builds', 'list', '--json'], { ZENBUILD_HOME: env.ZENBUILD_HOME });
    expect(JSON.parse(builds.stdout).builds).toEqual([]);
  }, 90_000);
});
