import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { asyncErrorOf, project } from '../__fixtures__/pipeline.js';
import { type ArchiveFormat, archiveContext } from './archive.js';
import { DigestCache } from './digest-cache.js';
import { contextHashOf, hashContext } from './hash.js';
import { type ContextSpecInput, walkContext } from './walk.js';

const paths = async (spec: ContextSpecInput) => (await walkContext(spec)).entries.map((e) => e.path);

async function bytesOf(spec: ContextSpecInput, format: ArchiveFormat): Promise<Buffer> {
  const { entries } = await walkContext(spec);
  const chunks: Buffer[] = [];
  for await (const chunk of archiveContext(entries, format)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('dockerignore semantics (Docker documentation)', () => {
  const tree = {
    'app.py': '',
    'a.pyc': '',
    'pkg/b.pyc': '',
    'pkg/mod.py': '',
    'data/big.csv': '',
    'data/keep.txt': '',
    'build/out': '',
    'src/build/out': '',
    'deep/x/cache/c': '',
    README: '',
    readme: '',
    file1: '',
    file22: '',
    '.git/HEAD': '',
    '.zen': '',
  };
  const withIgnore = (lines: string[]) => project({ ...tree, '.dockerignore': lines.join('\n') });

  it('a plain pattern matches at the root only; ** matches at any depth', async () => {
    expect(await paths({ root: withIgnore(['*.pyc']) })).toEqual(expect.arrayContaining(['pkg/b.pyc']));
    expect(await paths({ root: withIgnore(['*.pyc']) })).not.toContain('a.pyc');
    const all = await paths({ root: withIgnore(['**/*.pyc']) });
    expect(all).not.toContain('a.pyc');
    expect(all).not.toContain('pkg/b.pyc');
    expect(await paths({ root: withIgnore(['**/cache']) })).not.toContain('deep/x/cache/c');
  });

  it('excluding a directory excludes everything below it; ! re-includes a file inside it', async () => {
    const files = await paths({ root: withIgnore(['data', '!data/keep.txt']) });
    expect(files).toContain('data/keep.txt');
    expect(files).not.toContain('data/big.csv');
    // The image has the directory either way (Docker makes it for the file); the archive carries it with
    // a fixed mode and time so that the layer reproduces. Without a re-included child it stays out.
    expect(files).toContain('data');
    expect(await paths({ root: withIgnore(['data', '!data/none.txt']) })).not.toContain('data');
  });

  it('follows a symlinked .dockerignore, as Docker reads it', async () => {
    const shared = project({ 'team.ignore': 'secret.txt\n' });
    const root = project({ 'a.py': '', 'secret.txt': 'token' });
    symlinkSync(path.join(shared, 'team.ignore'), path.join(root, '.dockerignore'));
    const walked = await walkContext({ root });
    expect(walked.entries.map((e) => e.path)).toEqual(['a.py']);
    expect(walked.ignoreFile).toBe(path.join(root, '.dockerignore'));
  });

  it('warns that a .containerignore is not applied when no dockerignore is, and keeps it as a file', async () => {
    const root = project({ 'a.py': '', '.containerignore': 'a.py\n' });
    const walked = await walkContext({ root });
    expect(walked.entries.map((e) => e.path)).toEqual(['.containerignore', 'a.py']);
    expect(walked.warnings).toEqual([
      {
        path: '.containerignore',
        message: expect.stringMatching(/^not applied: zenbuild reads \.dockerignore/),
      },
    ]);
    writeFileSync(path.join(root, '.dockerignore'), 'a.py\n');
    expect((await walkContext({ root })).warnings).toEqual([]);
  });

  it('follows a build context root that is a symlink', async () => {
    const root = project({ 'a.py': '' });
    const link = path.join(project(), 'linked');
    symlinkSync(root, link);
    expect(await paths({ root: link })).toEqual(['a.py']);
  });

  it('does not walk an excluded directory that no exception reaches into', async () => {
    const root = project({
      'node_modules/a/b.js': '',
      'node_modules/c.js': '',
      'src/keep.py': '',
      'src/drop.py': '',
    });
    writeFileSync(path.join(root, '.dockerignore'), 'node_modules\nsrc\n!src/keep.py\n');
    const walked = await walkContext({ root });
    expect(walked.entries.map((e) => e.path)).toEqual(['src', 'src/keep.py']);
    // node_modules is reported once, as a whole; src was walked for its exception.
    expect(walked.excluded.map((x) => x.path)).toEqual(['node_modules/', 'src/', 'src/drop.py']);
  });

  it('walks an excluded directory when a wildcard exception could match inside it', async () => {
    const root = project({ 'data/x/keep.md': '', 'data/x/drop.bin': '' });
    writeFileSync(path.join(root, '.dockerignore'), 'data\n!**/*.md\n');
    expect(await paths({ root })).toEqual(['data', 'data/x', 'data/x/keep.md']);
  });

  it('a leading / anchors at the root, a trailing / is ignored', async () => {
    const files = await paths({ root: withIgnore(['/build/']) });
    expect(files).not.toContain('build/out');
    expect(files).toContain('src/build/out');
  });

  it('comments and blank lines are skipped; ? is one character; matching is case-sensitive', async () => {
    const files = await paths({ root: withIgnore(['# a comment', '', 'file?', 'README']) });
    expect(files).toContain('app.py');
    expect(files).not.toContain('file1');
    expect(files).toContain('file22');
    expect(files).not.toContain('README');
    expect(files).toContain('readme');
  });

  it('the last matching pattern wins', async () => {
    expect(await paths({ root: withIgnore(['!app.py', '*.py']) })).not.toContain('app.py');
    expect(await paths({ root: withIgnore(['*.py', '!app.py']) })).toContain('app.py');
  });

  it('keeps the .zen marker whatever the patterns say (ZenML)', async () => {
    const files = await paths({ root: withIgnore(['.*']) });
    expect(files).toContain('.zen');
    expect(files).not.toContain('.git/HEAD');
  });

  it('says which pattern excluded a path, at the highest excluded level', async () => {
    const walked = await walkContext({ root: withIgnore(['.git', '**/*.pyc']) });
    expect(walked.excluded).toEqual([
      { path: '.git/', pattern: '.git' },
      { path: 'a.pyc', pattern: '**/*.pyc' },
      { path: 'pkg/b.pyc', pattern: '**/*.pyc' },
    ]);
  });

  it('<Dockerfile>.dockerignore wins over .dockerignore, an explicit file wins over both', async () => {
    const root = project({
      ...tree,
      '.dockerignore': 'app.py',
      'Dockerfile.dockerignore': 'file1',
      'other.ignore': 'file22',
    });
    expect(await paths({ root })).toEqual(expect.arrayContaining(['app.py']));
    expect(await paths({ root })).not.toContain('file1');
    const custom = project({
      'ctx/app.py': '',
      'ctx/.dockerignore': 'app.py',
      'docker/Base.dockerfile.dockerignore': 'nothing',
    });
    expect(
      await paths({
        root: path.join(custom, 'ctx'),
        dockerfileSource: path.join(custom, 'docker/Base.dockerfile'),
      }),
    ).toContain('app.py');
    const explicit = await walkContext({ root, dockerignore: path.join(root, 'other.ignore') });
    expect(explicit.ignoreFile).toBe(path.join(root, 'other.ignore'));
    expect(explicit.entries.map((e) => e.path)).not.toContain('file22');
    expect(explicit.entries.map((e) => e.path)).toContain('file1');
  });

  it('leaves the ignore files out of the archive (ZenML #5030)', async () => {
    const root = project({ 'a.txt': '', '.dockerignore': 'b', 'Dockerfile.dockerignore': 'c' });
    expect(await paths({ root })).toEqual(['a.txt']);
  });

  it('an explicit dockerignore that does not exist is an error', async () => {
    const error = await asyncErrorOf(() =>
      walkContext({ root: project(), dockerignore: '/nope/.dockerignore' }),
    );
    expect(error.message).toMatch(/dockerignore file \/nope\/\.dockerignore does not exist/);
  });

  it('an explicit dockerignore that is a directory says so', async () => {
    const root = project({ 'ignores/x': '' });
    const error = await asyncErrorOf(() => walkContext({ root, dockerignore: path.join(root, 'ignores') }));
    expect(error.message).toMatch(/dockerignore file .*ignores is a directory, not a file/);
  });
});

describe('generated files', () => {
  it('are always included, even when a pattern excludes them, and win over source files', async () => {
    const root = project({ Dockerfile: 'FROM user\n', '.dockerignore': '*\n!src', 'src/a.py': '' });
    const walked = await walkContext({
      root,
      files: [
        { path: 'Dockerfile', content: 'FROM generated\n' },
        { path: '.zenml_user_requirements', content: 'pandas\n' },
      ],
    });
    expect(walked.entries.map((e) => e.path)).toEqual([
      '.zenml_user_requirements',
      'Dockerfile',
      'src',
      'src/a.py',
    ]);
    const dockerfile = walked.entries.find((e) => e.path === 'Dockerfile');
    expect(dockerfile?.source).toEqual({ kind: 'generated', content: Buffer.from('FROM generated\n') });
  });

  it('make the whole context when there is no root', async () => {
    expect(await paths({ files: [{ path: 'Dockerfile', content: 'FROM x' }] })).toEqual(['Dockerfile']);
  });

  it('cannot replace a directory', async () => {
    const root = project({ 'Dockerfile/x': '' });
    const error = await asyncErrorOf(() =>
      walkContext({ root, files: [{ path: 'Dockerfile', content: '' }] }),
    );
    expect(error.message).toMatch(/clashes with a directory/);
  });
});

describe('links, modes and special files', () => {
  it('archives symlinks as links and never follows them, inside or outside the root', async () => {
    const outside = project({ 'secret.txt': 'do not leak' });
    const root = project({ 'real/file.txt': 'x' });
    symlinkSync('real', path.join(root, 'dirlink'));
    symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'escape'));
    symlinkSync('missing', path.join(root, 'dangling'));
    const walked = await walkContext({ root });
    const byPath = Object.fromEntries(walked.entries.map((e) => [e.path, e]));
    expect(byPath.dirlink).toMatchObject({ type: 'symlink', linkTarget: 'real', mode: 0o777 });
    expect(byPath.escape).toMatchObject({ type: 'symlink', linkTarget: path.join(outside, 'secret.txt') });
    expect(byPath.dangling).toMatchObject({ type: 'symlink', linkTarget: 'missing' });
    expect(walked.entries.map((e) => e.path)).not.toContain('dirlink/file.txt');
    expect(walked.warnings.map((w) => w.path)).toEqual(['escape']);
    const tarBytes = await bytesOf({ root }, 'tar');
    expect(tarBytes.includes(Buffer.from('do not leak'))).toBe(false);
  });

  it('normalises modes: 0755 for executables and directories, 0644 for the rest', async () => {
    const root = project({ 'run.sh': '#!/bin/sh', 'private.txt': 'x', 'dir/f': '' });
    chmodSync(path.join(root, 'run.sh'), 0o700);
    chmodSync(path.join(root, 'private.txt'), 0o600);
    chmodSync(path.join(root, 'dir'), 0o700);
    const modes = Object.fromEntries(
      (await walkContext({ root })).entries.map((e) => [e.path, e.mode.toString(8)]),
    );
    expect(modes).toEqual({ dir: '755', 'dir/f': '644', 'private.txt': '644', 'run.sh': '755' });
  });

  it('gives each file its absolute path and the fingerprint lstat reports, which the hash and the archive use', async () => {
    const root = project({ 'src/run.sh': '#!/bin/sh\necho hi\n' });
    chmodSync(path.join(root, 'src/run.sh'), 0o755);
    const entry = (await walkContext({ root })).entries.find((e) => e.path === 'src/run.sh');
    const stats = lstatSync(path.join(root, 'src/run.sh'));
    expect(entry?.source?.kind).toBe('fs');
    if (entry?.source?.kind !== 'fs') return;
    expect(entry.source.absolute).toBe(path.join(path.resolve(root), 'src/run.sh'));
    expect({ ...entry.source.fingerprint }).toMatchObject({
      size: stats.size,
      executable: true,
      mtimeMs: stats.mtimeMs,
      ctimeMs: stats.ctimeMs,
      ino: stats.ino,
    });
  });

  it('skips sockets and named pipes with a warning instead of crashing', async () => {
    const root = project({ 'a.txt': '' });
    execFileSync('mkfifo', [path.join(root, 'fifo')]);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(path.join(root, 'sock'), resolve));
    try {
      const walked = await walkContext({ root });
      expect(walked.entries.map((e) => e.path)).toEqual(['a.txt']);
      expect(walked.warnings.map((w) => `${w.path}: ${w.message}`)).toEqual([
        'fifo: skipped: a named pipe cannot go into a build context.',
        'sock: skipped: a socket cannot go into a build context.',
      ]);
    } finally {
      server.close();
    }
  });

  it('leaves out the paths a spec excludes, saying why', async () => {
    const dir = project({ 'a.py': 'a', 'cache/digests.bin': 'x', 'keep/b.py': 'b' });
    const walked = await walkContext({
      root: dir,
      exclude: [{ path: path.join(dir, 'cache'), reason: 'zenbuild’s home' }],
    });
    expect(walked.entries.map((e) => e.path)).toEqual(['a.py', 'keep', 'keep/b.py']);
    expect(walked.excluded).toEqual([{ path: 'cache/', reason: 'zenbuild’s home' }]);
  });

  it('a root that is not a directory is an error', async () => {
    await expect(walkContext({ root: '/nonexistent-zenbuild-root' })).rejects.toThrow(
      'The build context root /nonexistent-zenbuild-root does not exist.',
    );
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'zenbuild-root-')), 'file');
    writeFileSync(file, '');
    await expect(walkContext({ root: file })).rejects.toThrow(`${file} is a file, not a directory.`);
  });
});

describe('deterministic archives', () => {
  /** The same tree written twice, as two checkouts would be: other times, other permissions, other order. */
  function twoCheckouts(): [string, string] {
    const files: Record<string, string> = {
      'src/b.py': 'print("b")\n',
      'src/a.py': 'print("a")\n',
      'data/weights.bin': 'x'.repeat(70_000),
      'README.md': '# hi\n',
      'empty/.keep': '',
    };
    const first = project(files);
    const second = project(Object.fromEntries(Object.entries(files).reverse()));
    for (const [i, name] of Object.keys(files).entries()) {
      utimesSync(path.join(second, name), new Date(2001, 1, i + 1), new Date(2001, 1, i + 1));
      chmodSync(path.join(second, name), 0o600);
    }
    symlinkSync('src/a.py', path.join(first, 'link'));
    symlinkSync('src/a.py', path.join(second, 'link'));
    return [first, second];
  }

  it.each(['tar', 'tar.gz', 'zip'] as const)('%s is byte-identical for the same tree', async (format) => {
    const [first, second] = twoCheckouts();
    const generated = [{ path: 'Dockerfile', content: 'FROM x\n' }];
    const a = await bytesOf({ root: first, files: generated }, format);
    const b = await bytesOf({ root: second, files: generated }, format);
    expect(a.length).toBeGreaterThan(0);
    expect(sha(a)).toBe(sha(b));
  });

  it('the content hash is the same for both checkouts and changes with any entry', async () => {
    const [first, second] = twoCheckouts();
    const hashOf = async (root: string) => (await hashContext((await walkContext({ root })).entries)).hash;
    const original = await hashOf(first);
    expect(await hashOf(second)).toBe(original);
    writeFileSync(path.join(second, 'src/a.py'), 'print("changed")\n');
    const changedContent = await hashOf(second);
    chmodSync(path.join(first, 'src/a.py'), 0o755);
    const changedMode = await hashOf(first);
    expect(new Set([original, changedContent, changedMode]).size).toBe(3);
  });

  it('tar has fixed times, uid/gid 0, no names, and system tar extracts it exactly', async () => {
    const [root] = twoCheckouts();
    const archive = await bytesOf({ root }, 'tar');
    const listing = execFileSync('tar', ['-tv', '--numeric-owner', '-f', '-'], { input: archive }).toString();
    for (const line of listing.trim().split('\n'))
      expect(line).toMatch(/^([-d]r[-w][-x]r-[-x]r-[-x]|lrwxrwxrwx) 0\/0 .* 1970-01-01 00:00 /);
    const out = mkdtempSync(path.join(tmpdir(), 'zenbuild-x-'));
    execFileSync('tar', ['-x', '-C', out, '-f', '-'], { input: archive });
    expect(readFileSync(path.join(out, 'data/weights.bin'), 'utf8')).toHaveLength(70_000);
    expect(readlinkSync(path.join(out, 'link'))).toBe('src/a.py');
  });

  it('zip extracts with unzip, links included', async () => {
    const [root] = twoCheckouts();
    const archive = await bytesOf({ root }, 'zip');
    const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-z-'));
    writeFileSync(path.join(dir, 'ctx.zip'), archive);
    mkdirSync(path.join(dir, 'out'));
    execFileSync('unzip', ['-q', path.join(dir, 'ctx.zip'), '-d', path.join(dir, 'out')]);
    expect(readFileSync(path.join(dir, 'out/src/b.py'), 'utf8')).toBe('print("b")\n');
    expect(readlinkSync(path.join(dir, 'out/link'))).toBe('src/a.py');
  });

  it('zip deflates what deflating shrinks and stores the rest (weights, archives, random bytes)', async () => {
    const root = project({
      'src/train.py': 'import numpy as np\n'.repeat(8000), // 150 KB of text
      'model/weights.bin': randomBytes(300_000),
      'small-random.bin': randomBytes(1000), // below the probe size: always deflated
    });
    const archive = await bytesOf({ root }, 'zip');
    const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-z-'));
    writeFileSync(path.join(dir, 'ctx.zip'), archive);
    // unzip -v: one line per entry with its method (Stored or Defl:N) and its name last.
    const methods = Object.fromEntries(
      execFileSync('unzip', ['-v', path.join(dir, 'ctx.zip')], { encoding: 'utf8' })
        .split('\n')
        .map((line) => line.trim().split(/\s+/))
        .filter((cols) => cols.length >= 8 && /^(Stored|Defl:)/.test(cols[1] ?? ''))
        .map((cols) => [cols.at(-1), cols[1]]),
    );
    expect(methods).toEqual({
      'model/': 'Stored',
      'model/weights.bin': 'Stored',
      'small-random.bin': 'Defl:N',
      'src/': 'Stored',
      'src/train.py': 'Defl:N',
    });
    mkdirSync(path.join(dir, 'out'));
    execFileSync('unzip', ['-q', path.join(dir, 'ctx.zip'), '-d', path.join(dir, 'out')]);
    expect(sha(readFileSync(path.join(dir, 'out/model/weights.bin')))).toBe(
      sha(readFileSync(path.join(root, 'model/weights.bin'))),
    );
    expect(archive.length).toBeLessThan(300_000 + 1000 + 20_000);
  });

  it('tar.gz is stored (gzip level 0) when most of its bytes do not deflate, and deflated otherwise', async () => {
    const text = 'import numpy as np\n'.repeat(8000); // 150 KB
    const mostlyWeights = project({ 'src/train.py': text, 'model/weights.bin': randomBytes(400_000) });
    const mostlyCode = project({
      'src/train.py': text,
      'src/more.py': text,
      'model/w.bin': randomBytes(100_000),
    });
    const stored = await bytesOf({ root: mostlyWeights }, 'tar.gz');
    const deflated = await bytesOf({ root: mostlyCode }, 'tar.gz');
    // Stored blocks are as deterministic as deflated ones: the same bytes every time.
    expect(sha(await bytesOf({ root: mostlyWeights }, 'tar.gz'))).toBe(sha(stored));
    // Stored: the whole tar is there, text included; deflated: the text shrinks to almost nothing.
    expect(stored.length).toBeGreaterThan(400_000 + text.length);
    expect(deflated.length).toBeLessThan(100_000 + 10_000);
    for (const [archive, root] of [
      [stored, mostlyWeights],
      [deflated, mostlyCode],
    ] as const) {
      const out = mkdtempSync(path.join(tmpdir(), 'zenbuild-x-'));
      execFileSync('tar', ['-xz', '-C', out, '-f', '-'], { input: archive });
      expect(readFileSync(path.join(out, 'src/train.py'), 'utf8')).toBe(text);
      const weights = readdirSync(path.join(root, 'model'))[0] as string;
      expect(sha(readFileSync(path.join(out, 'model', weights)))).toBe(
        sha(readFileSync(path.join(root, 'model', weights))),
      );
    }
  });

  it.each(['tar', 'tar.gz', 'zip'] as const)(
    '%s: refuses to archive a file that changed after it was walked',
    async (format) => {
      const root = project({ 'a.txt': 'one' });
      const { entries } = await walkContext({ root });
      writeFileSync(path.join(root, 'a.txt'), 'changed!');
      const consume = async () => {
        for await (const _ of archiveContext(entries, format)) {
          // drain
        }
      };
      await expect(consume()).rejects.toThrow(/changed after the build context was planned/);
    },
  );
});

describe('the digest cache', () => {
  it('reuses digests of unchanged files and re-reads changed ones', async () => {
    const root = project({ 'a.txt': 'a', 'b.txt': 'b' });
    const old = new Date(Date.now() - 60_000);
    for (const f of ['a.txt', 'b.txt']) utimesSync(path.join(root, f), old, old);
    const home = project();
    const first = await DigestCache.open(home, root);
    const walked = await walkContext({ root });
    const cold = await hashContext(walked.entries, { cache: first });
    expect(cold.stats).toMatchObject({ files: 2, cached: 0 });
    await first.save();

    writeFileSync(path.join(root, 'b.txt'), 'B');
    utimesSync(path.join(root, 'b.txt'), old, new Date(Date.now() - 30_000));
    const again = await walkContext({ root });
    const warm = await hashContext(again.entries, { cache: await DigestCache.open(home, root) });
    expect(warm.stats).toMatchObject({ files: 2, cached: 1 });
    expect(warm.hash).not.toBe(cold.hash);
    expect(warm.hash).toBe(contextHashOf(again.entries));
  });

  it('does not remember files modified in the last two seconds (racy writes)', async () => {
    const root = project({ 'fresh.txt': 'x' });
    const cache = DigestCache.inMemory();
    await hashContext((await walkContext({ root })).entries, { cache });
    const second = await hashContext((await walkContext({ root })).entries, { cache });
    expect(second.stats.cached).toBe(0);
  });
});
