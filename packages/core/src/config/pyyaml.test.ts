import { describe, expect, it } from 'vitest';
import { pythonFloatText } from './pyyaml.js';
import { parseYaml } from './yaml-file.js';

// Expected values are what PyYAML's safe_load gives (its resolver.py and constructor.py, YAML 1.1),
// then Python's str() for values that become text.
const load = (text: string) => parseYaml(text, 'test.yaml', 'test file') as Record<string, unknown>;

describe('YAML as PyYAML reads it', () => {
  it('reads YAML 1.1 booleans, and leaves y and n as text', () => {
    expect(load('a: yes\nb: No\nc: on\nd: OFF\ne: y\nf: n\ng: True\n')).toEqual({
      a: true,
      b: false,
      c: true,
      d: false,
      e: 'y',
      f: 'n',
      g: true,
    });
  });
  it('reads octal, binary, hex, underscores and sexagesimal integers', () => {
    expect(load('a: 0755\nb: 0b101\nc: 0x1f\nd: 1_000\ne: 1:20\nf: -010\n')).toEqual({
      a: 493,
      b: 5,
      c: 31,
      d: 1000,
      e: 80,
      f: -8,
    });
  });
  it('keeps an integer past 2^53 exact, as Python does', () => {
    expect(load('a: 12345678901234567890\n')).toEqual({ a: '12345678901234567890' });
  });
  it('reads floats only with a dot, and writes them as str() does', () => {
    expect(load('a: 1.0\nb: 3.10\nc: 1e3\nd: 1.5e-7\ne: .inf\nf: -.inf\ng: .nan\nh: 0.5\n')).toEqual({
      a: '1.0',
      b: 3.1,
      c: '1e3',
      d: '1.5e-07',
      e: 'inf',
      f: '-inf',
      g: 'nan',
      h: 0.5,
    });
  });
  it('keeps timestamps as the text they were written as', () => {
    expect(load('a: 2024-01-01\n')).toEqual({ a: '2024-01-01' });
  });
  it('reads ~ and empty values as null, and merge keys', () => {
    expect(load('a: ~\nb:\nbase: &b {x: 1}\nc: {<<: *b, y: 2}\n')).toMatchObject({
      a: null,
      b: null,
      c: { x: 1, y: 2 },
    });
  });
});

describe("Python's str() of a float", () => {
  it.each([
    [1, '1.0'],
    [0.1, '0.1'],
    [1e-5, '1e-05'],
    [0.0001, '0.0001'],
    [1.5e-7, '1.5e-07'],
    [1e16, '1e+16'],
    [123456789012345.6, '123456789012345.6'],
    [1e15, '1000000000000000.0'],
    [-2.5, '-2.5'],
    [1e300, '1e+300'],
  ])('%d is %s', (value, text) => {
    expect(pythonFloatText(value)).toBe(text);
  });
});
