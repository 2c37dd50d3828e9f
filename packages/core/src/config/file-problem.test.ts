import { execFileSync } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { project } from '../__fixtures__/pipeline.js';
import { fileProblem, readProblem } from './file-problem.js';

describe('fileProblem', () => {
  it('is undefined for a regular file, and for a symlink to one', () => {
    const dir = project({ 'a.txt': 'a' });
    symlinkSync(path.join(dir, 'a.txt'), path.join(dir, 'link'));
    expect(fileProblem(path.join(dir, 'a.txt'))).toBeUndefined();
    expect(fileProblem(path.join(dir, 'link'))).toBeUndefined();
  });

  it('names what is wrong with anything else', () => {
    const dir = project({ 'a.txt': 'a', 'sub/b': '' });
    symlinkSync(path.join(dir, 'gone'), path.join(dir, 'dangling'));
    execFileSync('mkfifo', [path.join(dir, 'fifo')]);
    expect(fileProblem(path.join(dir, 'missing'))).toBe('does not exist');
    expect(fileProblem(path.join(dir, 'dangling'))).toBe('does not exist');
    expect(fileProblem(path.join(dir, 'sub'))).toBe('is a directory, not a file');
    expect(fileProblem(path.join(dir, 'fifo'))).toBe('is not a regular file');
    expect(fileProblem(path.join(dir, 'a.txt', 'x'))).toBe('does not exist (a parent of it is a file)');
  });
});

describe('readProblem', () => {
  it('turns error codes into words, and keeps an unknown code visible', () => {
    const error = (code: string) => Object.assign(new Error(code), { code });
    expect(readProblem(error('EACCES'))).toBe('cannot be read (permission denied)');
    expect(readProblem(error('EISDIR'))).toBe('is a directory, not a file');
    expect(readProblem(error('ELOOP'))).toBe('cannot be read (a symlink loop)');
    expect(readProblem(error('EIO'))).toBe('cannot be read (EIO)');
  });
});
