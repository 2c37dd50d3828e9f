import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorOf } from '../__fixtures__/pipeline.js';
import { ensureZenbuildHome, zenbuildHome } from './home.js';

const scratch = () => mkdtempSync(path.join(tmpdir(), 'zenbuild-home-test-'));

describe('zenbuild home', () => {
  it('is ZENBUILD_HOME, else XDG_DATA_HOME/zenbuild', () => {
    expect(zenbuildHome({ ZENBUILD_HOME: '/a/b' })).toBe('/a/b');
    expect(zenbuildHome({ XDG_DATA_HOME: '/x' })).toBe('/x/zenbuild');
  });

  it('is made with its missing parents when it is used', () => {
    const home = path.join(scratch(), 'a', 'b', 'home');
    expect(ensureZenbuildHome({ ZENBUILD_HOME: home })).toBe(home);
    expect(statSync(home).isDirectory()).toBe(true);
    expect(ensureZenbuildHome({ ZENBUILD_HOME: home })).toBe(home); // and found the second time
  });

  it('a file in the way is an input error naming the variable', () => {
    const file = path.join(scratch(), 'file');
    writeFileSync(file, '');
    for (const home of [file, path.join(file, 'below')]) {
      const error = errorOf(() => ensureZenbuildHome({ ZENBUILD_HOME: home }));
      expect(error.code).toBe('INVALID_INPUT');
      expect(error.message).toMatch(new RegExp(`^ZENBUILD_HOME=${home}: ${file} is not a directory\\. `));
    }
  });

  it('says which setting chose it when the home comes from XDG_DATA_HOME', () => {
    const file = path.join(scratch(), 'data');
    writeFileSync(file, '');
    expect(errorOf(() => ensureZenbuildHome({ XDG_DATA_HOME: file })).message).toMatch(
      /^zenbuild's home .*data\/zenbuild \(from XDG_DATA_HOME\): .*data is not a directory/,
    );
  });

  it('a place where no directory can be made is an error, not a hang', () => {
    // procfs answers ENOENT to mkdir, on which mkdir({ recursive: true }) retries forever.
    const error = errorOf(() => ensureZenbuildHome({ ZENBUILD_HOME: '/proc/zenbuild-test/home' }));
    expect(error.message).toMatch(
      /^ZENBUILD_HOME=\/proc\/zenbuild-test\/home: \/proc\/zenbuild-test cannot be made/,
    );
    expect(existsSync('/proc/zenbuild-test')).toBe(false);
  });
});
