import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliBin, tempHome, zenbuild } from '../helpers/cli.js';

describe('zenbuild plan runs nothing', () => {
  it('shows the command replicate_local_python_environment names, and only build runs it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-plan-runs-'));
    const marker = path.join(dir, 'ran');
    writeFileSync(
      path.join(dir, 'pipeline.yaml'),
      JSON.stringify({
        name: 'replicate',
        settings: {
          docker: {
            parent_image: 'team/base:1',
            replicate_local_python_environment: ['sh', '-c', `touch ${marker}; echo pandas==2.2.0`],
          },
        },
      }),
    );
    const pipeline = path.join(dir, 'pipeline.yaml');
    const plan = zenbuild(['plan', pipeline]);
    expect(plan.code).toBe(0);
    expect(existsSync(marker)).toBe(false);
    expect(plan.stdout).toContain('Commands `zenbuild build` runs on this machine');
    expect(plan.stdout).toContain(`  sh -c touch ${marker}; echo pandas==2.2.0`);
    const json = JSON.parse(zenbuild(['plan', pipeline, '--json']).stdout);
    expect(json.commandsBuildRuns).toEqual([`sh -c touch ${marker}; echo pandas==2.2.0`]);
    expect(existsSync(marker)).toBe(false);

    // build runs it (and then stops at the engine, which does not exist here).
    const build = zenbuild(['build', pipeline], {
      ZENML_CONTAINER_ENGINE: 'docker',
      DOCKER_HOST: 'unix:///nonexistent/docker.sock',
    });
    expect(build.code).toBe(3);
    expect(existsSync(marker)).toBe(true);
  });
});

describe('a context file zenbuild cannot read', () => {
  // Root reads every file: the case needs a user who cannot, so zenbuild runs as nobody here.
  it('is an input error naming the file and the fix, from plan and from context', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-unreadable-'));
    chmodSync(dir, 0o755);
    writeFileSync(path.join(dir, '.zen'), '');
    writeFileSync(path.join(dir, 'secret.key'), 'k', { mode: 0o600 });
    writeFileSync(
      path.join(dir, 'pipeline.yaml'),
      JSON.stringify({
        name: 'unreadable',
        settings: { docker: { parent_image: 'team/base:1', allow_download_from_artifact_store: false } },
      }),
      { mode: 0o644 },
    );
    const home = tempHome();
    chmodSync(home, 0o777);
    const asNobody = (args: string[]) =>
      spawnSync(process.execPath, [cliBin, ...args], {
        encoding: 'utf8',
        uid: 65534,
        gid: 65534,
        cwd: dir,
        env: { PATH: process.env.PATH, HOME: home, ZENBUILD_HOME: home },
      });
    for (const args of [
      ['plan', path.join(dir, 'pipeline.yaml')],
      ['context', dir],
    ]) {
      const result = asNobody(args);
      expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
      expect(result.stderr).toContain(
        `${path.join(dir, 'secret.key')} cannot be read for the build context (permission denied). Fix its permissions or exclude it in .dockerignore.`,
      );
      expect(result.status).toBe(2);
    }
  });
});
