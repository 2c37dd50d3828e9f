import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { tempHome, zenbuild } from '../helpers/cli.js';

// A store someone else damaged: each kind of damage is skipped with one warning naming the file, and
// `builds check --fix` moves it aside. Nothing crashes with a stack trace.
const damagedId = '20260101T000000000Z-0badc0de';

/** A pipeline that builds nothing (skip_build), so `zenbuild build` records without an engine. */
function skipPipeline(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-damaged-'));
  const file = path.join(dir, 'pipeline.yaml');
  writeFileSync(
    file,
    'name: damaged\nsettings:\n  docker:\n    parent_image: team/base:1\n    skip_build: true\n',
  );
  return file;
}

const valid = {
  id: damagedId,
  pipeline: 'damaged',
  stack: 'default',
  registry: null,
  checksum: 'c'.repeat(64),
  reused: false,
  createdAt: '2026-01-01T00:00:00.000Z',
  durationMs: 1,
  containsCode: false,
  images: {},
  zenbuildVersion: '0.1.0',
};

const damages: Array<[string, (home: string) => void, RegExp]> = [
  ['garbage', (home) => writeRecord(home, 'garbage\n'), /not JSON/],
  ['an empty file', (home) => writeRecord(home, ''), /empty/],
  ['null', (home) => writeRecord(home, 'null'), /not a build record/],
  ['a list', (home) => writeRecord(home, '[]'), /not a build record/],
  ['an empty object', (home) => writeRecord(home, '{}'), /not a build record: id/],
  ['truncated JSON', (home) => writeRecord(home, JSON.stringify(valid).slice(0, 40)), /not JSON/],
  [
    'wrong field types',
    (home) => writeRecord(home, JSON.stringify({ ...valid, pipeline: 7, createdAt: {} })),
    /not a build record: pipeline/,
  ],
  [
    'an image of the wrong shape',
    (home) => writeRecord(home, JSON.stringify({ ...valid, images: { orchestrator: 'x' } })),
    /images\.orchestrator/,
  ],
  [
    'another build’s record under this id',
    (home) => writeRecord(home, JSON.stringify({ ...valid, id: '20260101T000000000Z-00000000' })),
    /holds the record of build/,
  ],
  [
    'a directory named like a record',
    (home) => mkdirSync(path.join(home, 'builds', `${damagedId}.json`), { recursive: true }),
    /a directory, where a record file belongs/,
  ],
];

function writeRecord(home: string, content: string): void {
  mkdirSync(path.join(home, 'builds'), { recursive: true });
  writeFileSync(path.join(home, 'builds', `${damagedId}.json`), content);
}

describe('a damaged build store', () => {
  it.each(damages)(
    '%s: skipped with one warning by every command; check --fix moves it aside',
    (_what, damage, why) => {
      const home = tempHome();
      damage(home);
      const env = { ZENBUILD_HOME: home };
      const record = path.join(home, 'builds', `${damagedId}.json`);

      const list = zenbuild(['builds', 'list'], env);
      expect(list.stderr).not.toMatch(/internal error|at .*\.js:\d+/);
      expect(list.code).toBe(0);
      expect(list.stderr.match(/warning:/g)).toHaveLength(1);
      expect(list.stderr).toContain(record);
      expect(list.stderr).toMatch(why);

      const listJson = zenbuild(['builds', 'list', '--json'], env);
      expect(listJson.code).toBe(0);
      // Which store was read (this machine's, without a stack), and none of its records.
      expect(JSON.parse(listJson.stdout)).toEqual({ store: home, builds: [] });

      const show = zenbuild(['builds', 'show', damagedId], env);
      expect(show.code).toBe(2);
      expect(show.stderr).toMatch(new RegExp(`The record of build \`${damagedId}\` is damaged`));

      // The next build of that pipeline records its build beside the damaged file.
      const build = zenbuild(['build', skipPipeline(), '--json'], env);
      expect(build.stderr).not.toMatch(/internal error/);
      expect(build.code).toBe(0);
      expect(JSON.parse(build.stdout).pipeline).toBe('damaged');

      const check = zenbuild(['builds', 'check'], env);
      expect(check.code).toBe(1);
      expect(check.stdout).toContain(record);
      const fix = zenbuild(['builds', 'check', '--fix', '--json'], env);
      expect(fix.code).toBe(0);
      const moved = JSON.parse(fix.stdout).damaged;
      expect(moved).toHaveLength(1);
      expect(existsSync(record)).toBe(false);
      expect(existsSync(moved[0].movedTo)).toBe(true);
      const after = zenbuild(['builds', 'list', '--json'], env);
      expect(after.stderr).not.toMatch(/warning/);
      expect(JSON.parse(after.stdout).builds).toHaveLength(1);
    },
  );

  it('a builds/ that is a file: commands warn, a build refuses before building, check --fix moves it', () => {
    const home = tempHome();
    writeFileSync(path.join(home, 'builds'), 'not a folder');
    const env = { ZENBUILD_HOME: home };
    const list = zenbuild(['builds', 'list', '--json'], env);
    expect(list.code).toBe(0);
    expect(list.stderr).toMatch(/builds: not a directory/);
    const build = zenbuild(['build', skipPipeline()], env);
    expect(build.code).toBe(2);
    expect(build.stderr).toMatch(/cannot keep records in .*builds.*builds check --fix/);
    expect(zenbuild(['builds', 'check', '--fix'], env).code).toBe(0);
    expect(readdirSync(path.join(home, 'damaged'))).toHaveLength(1);
    expect(zenbuild(['build', skipPipeline()], env).code).toBe(0);
  });

  it('an index entry whose record holds another checksum is no reuse hit', () => {
    const home = tempHome();
    const env = { ZENBUILD_HOME: home };
    const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-damaged-'));
    const pipeline = path.join(dir, 'pipeline.yaml');
    const name = `damaged${Math.random().toString(36).slice(2, 8)}`;
    writeFileSync(
      pipeline,
      JSON.stringify({
        name,
        settings: { docker: { parent_image: inject('baseImage'), environment: { A: name } } },
      }),
    );
    const build = () => JSON.parse(zenbuild(['build', pipeline, '--json'], env, dir, 60_000).stdout);
    const first = build();
    expect(build().reused).toBe(true);
    // Someone rewrote the record's checksum: the index still files it under the old one.
    const file = path.join(home, 'builds', `${first.id}.json`);
    writeFileSync(
      file,
      JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), checksum: 'd'.repeat(64) }),
    );
    expect(build().reused).toBe(false);
    rmSync(home, { recursive: true });
  });
});
