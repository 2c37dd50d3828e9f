import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { project } from '../__fixtures__/pipeline.js';
import { ZenbuildError } from '../errors.js';
import { archiveContext } from './archive.js';
import { walkContext } from './walk.js';
import { writeContextTo } from './write-to.js';

const emptyDir = () => mkdtempSync(path.join(tmpdir(), 'zenbuild-written-'));

/** Every entry of a directory as GNU find sees it: path, type, mode, size, mtime, link target, content. */
function listing(dir: string): string {
  return execFileSync(
    'sh',
    [
      '-c',
      `find . -mindepth 1 -printf '%P %y %m %s %T@ %l\\n' | sort && find . -type f -print0 | sort -z | xargs -0 sha256sum`,
    ],
    { cwd: dir, encoding: 'utf8' },
  );
}

describe('writeContextTo', () => {
  it('writes exactly what unpacking the tar gives: modes, times, links, generated files', async () => {
    const root = project({
      'src/train.py': 'print("train")\n',
      'src/pkg/__init__.py': '',
      'data/weights.bin': 'w'.repeat(3 * 1024 * 1024 + 7),
      'run.sh': '#!/bin/sh\necho run\n',
      Dockerfile: 'FROM overridden-by-the-generated-one\n',
      'secret.txt': 'not included',
      '.dockerignore': 'secret.txt\n',
    });
    chmodSync(path.join(root, 'run.sh'), 0o700);
    chmodSync(path.join(root, 'src/train.py'), 0o600);
    mkdirSync(path.join(root, 'empty'));
    symlinkSync('src/train.py', path.join(root, 'inside'));
    symlinkSync('/etc/passwd', path.join(root, 'outside'));
    const { entries } = await walkContext({
      root,
      files: [
        { path: 'Dockerfile', content: 'FROM busybox\n' },
        { path: '.zenbuild/requirements.txt', content: 'numpy==2.1.0\n' },
      ],
    });

    const written = emptyDir();
    await writeContextTo(entries, written);
    const unpacked = emptyDir();
    execFileSync('tar', ['-x', '-C', unpacked], { input: await bytes(archiveContext(entries, 'tar')) });
    // The one difference, on purpose: tar leaves a directory without an entry of its own (here made
    // for a generated file) at the time of unpacking; writeTo gives it the archive's time too.
    execFileSync('touch', ['-d', '@0', path.join(unpacked, '.zenbuild')]);

    expect(listing(written)).toBe(listing(unpacked));
    // What that comparison covers, spelled out once.
    const lines = listing(written);
    expect(lines).toContain('run.sh f 755 ');
    expect(lines).toContain('src/train.py f 644 ');
    expect(lines).toContain('outside l 777 11 0.0000000000 /etc/passwd');
    expect(lines).toContain('.zenbuild/requirements.txt f 644 13 0.0000000000');
    expect(lines).not.toContain('secret.txt');
    expect(lines).not.toContain('overridden');
  });

  it('refuses a file that changed after it was walked', async () => {
    const root = project({ 'a.txt': 'one' });
    const { entries } = await walkContext({ root });
    writeFileSync(path.join(root, 'a.txt'), 'changed!');
    await expect(writeContextTo(entries, emptyDir())).rejects.toThrow(
      /a\.txt changed after the build context was planned/,
    );
  });

  it('reports the bytes written, and all of them once at the end', async () => {
    const sizes = [3 << 20, 5, 1 << 20, 0];
    const root = project(Object.fromEntries(sizes.map((size, i) => [`f${i}`, 'x'.repeat(size)])));
    const { entries } = await walkContext({
      root,
      files: [{ path: 'Dockerfile', content: 'FROM busybox\n' }],
    });
    const reports: Array<[number, boolean]> = [];
    await writeContextTo(entries, emptyDir(), { onWritten: (bytes, done) => reports.push([bytes, done]) });
    const total = sizes.reduce((a, b) => a + b) + 'FROM busybox\n'.length;
    expect(reports.at(-1)).toEqual([total, true]);
    expect(reports.filter(([, done]) => done)).toHaveLength(1);
    const counts = reports.map(([bytes]) => bytes);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
  });

  it('stops when the signal is aborted, between files', async () => {
    const root = project(
      Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`f${i}`, 'x'.repeat(1 << 20)])),
    );
    const { entries } = await walkContext({ root });
    const controller = new AbortController();
    const into = emptyDir();
    const writing = writeContextTo(entries, into, { signal: controller.signal });
    controller.abort();
    const error = await writing.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ZenbuildError);
    expect((error as ZenbuildError).code).toBe('CANCELLED');
    // It yields every 32 MiB: the 40 MiB context was cut off before its end.
    expect(readdirSync(into).length).toBeLessThan(40);
  });
});

async function bytes(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
