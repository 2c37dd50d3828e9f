import { cpSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createBuildRecord,
  defaultStack,
  LocalBuildStore,
  loadPipelineConfig,
  planBuilds,
  planChecksums,
} from '@zenbuild/core';
import { describe, expect, it } from 'vitest';
import { example, tempHome, zenbuild } from '../helpers/cli.js';

describe('zenbuild context', () => {
  it('lists the included files, their total size and the hash, and why files are missing', () => {
    const result = zenbuild(['context', example('project'), '--json']);
    expect(result.code).toBe(0);
    const context = JSON.parse(result.stdout);
    expect(context.entries.map((e: { path: string }) => e.path)).toEqual([
      '.zen',
      'Dockerfile',
      'pyproject.toml',
      'requirements.txt',
      'src',
      'src/train.py',
    ]);
    expect(context.fileCount).toBe(5);
    expect(context.totalSize).toBeGreaterThan(0);
    expect(context.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(context.ignoreFile).toBe(example('project/.dockerignore'));

    const human = zenbuild(['context', example('project')]);
    expect(human.stdout).toContain(`Hash:         ${context.hash}`);
    expect(human.stdout).toMatch(/Files: +5, /);
  });

  it('gives the same hash for a copy of the tree with other times (a fresh checkout)', () => {
    const copy = path.join(mkdtempSync(path.join(tmpdir(), 'zenbuild-copy-')), 'project');
    cpSync(example('project'), copy, { recursive: true });
    utimesSync(path.join(copy, 'src/train.py'), new Date(2000, 0, 1), new Date(2000, 0, 1));
    const hashOf = (dir: string) => JSON.parse(zenbuild(['context', dir, '--json']).stdout).hash;
    expect(hashOf(copy)).toBe(hashOf(example('project')));
  });

  it('shows what an explicit --dockerignore excludes and by which pattern', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-ctx-'));
    writeFileSync(path.join(dir, 'keep.py'), '');
    writeFileSync(path.join(dir, 'big.bin'), 'x');
    writeFileSync(path.join(dir, 'my.ignore'), '*.bin\n');
    const context = JSON.parse(
      zenbuild(['context', dir, '--dockerignore', path.join(dir, 'my.ignore'), '--json']).stdout,
    );
    expect(context.excluded).toEqual([{ path: 'big.bin', pattern: '*.bin' }]);
    const human = zenbuild(['context', dir, '--dockerignore', path.join(dir, 'my.ignore')]).stdout;
    expect(human).toContain('big.bin  (by `*.bin`)');
  });

  it('leaves zenbuild’s home out when it lies inside the tree, so its caches never change the hash', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-home-inside-'));
    writeFileSync(path.join(dir, 'train.py'), 'print(1)\n');
    const env = { ZENBUILD_HOME: path.join(dir, '.zenbuild') };
    const first = JSON.parse(zenbuild(['context', dir, '--json'], env).stdout);
    // The first run wrote its digest cache into the home; the second must not see it.
    const second = JSON.parse(zenbuild(['context', dir, '--json'], env).stdout);
    expect(second.hash).toBe(first.hash);
    expect(second.entries.map((e: { path: string }) => e.path)).toEqual(['train.py']);
    expect(second.excluded).toEqual([
      {
        path: '.zenbuild/',
        reason: "zenbuild's home: its caches and build records are never part of a context",
      },
    ]);
    expect(zenbuild(['context', dir], env).stdout).toContain(
      "  .zenbuild/  (zenbuild's home: its caches and build records are never part of a context)",
    );
  });

  it('refuses a directory that does not exist, with exit code 2', () => {
    const result = zenbuild(['context', '/nonexistent/zenbuild-dir']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'zenbuild: The build context root /nonexistent/zenbuild-dir does not exist.',
    );
  });
});

describe('zenbuild builds', () => {
  async function homeWithRecord() {
    const home = tempHome();
    const pipeline = await loadPipelineConfig(example('pipelines/per-step.yaml'), { env: {} });
    const stack = defaultStack();
    const plan = planBuilds({ pipeline, stack, env: {} });
    const record = createBuildRecord({
      plan,
      stack,
      checksums: planChecksums(plan, {}, {}),
      contextHashes: {},
      parentDigests: {},
      built: {},
      durationMs: 4200,
    });
    await new LocalBuildStore(home).save(record);
    return { home, record };
  }

  it('lists recorded builds, and shows one', async () => {
    const { home, record } = await homeWithRecord();
    const list = zenbuild(['builds', 'list'], { ZENBUILD_HOME: home });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${record.id} +training +default +3 +built`));
    expect(JSON.parse(zenbuild(['builds', 'list', '--json'], { ZENBUILD_HOME: home }).stdout).builds).toEqual(
      [record],
    );
    expect(
      JSON.parse(
        zenbuild(['builds', 'list', '--pipeline', 'other', '--json'], { ZENBUILD_HOME: home }).stdout,
      ).builds,
    ).toEqual([]);
    expect(
      JSON.parse(zenbuild(['builds', 'show', record.id, '--json'], { ZENBUILD_HOME: home }).stdout),
    ).toEqual(record);
    const show = zenbuild(['builds', 'show', record.id], { ZENBUILD_HOME: home });
    expect(show.stdout).toContain('Image trainer.orchestrator');
    expect(show.stdout).toContain(`Checksum: ${record.checksum}`);
  });

  it('says so when there are no builds, and refuses an unknown id with exit code 2', () => {
    const home = tempHome();
    expect(zenbuild(['builds', 'list'], { ZENBUILD_HOME: home }).stdout).toContain('No builds recorded');
    const show = zenbuild(['builds', 'show', 'nope'], { ZENBUILD_HOME: home });
    expect(show.code).toBe(2);
    expect(show.stderr).toContain('No build with id `nope`');
  });
});
