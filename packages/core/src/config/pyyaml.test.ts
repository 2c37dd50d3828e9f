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

describe('explicit tags, as PyYAML constructs them', () => {
  it('reads the text as the constructor does: float(), any case of a boolean, anything as null', () => {
    expect(
      load(
        "a: !!float 1\nb: !!float 1e3\nc: !!float inf\nd: !!bool YES\ne: !!null x\nf: !!int '7'\ng: !!str 12\n",
      ),
    ).toEqual({ a: '1.0', b: '1000.0', c: 'inf', d: true, e: null, f: 7, g: '12' });
  });
  it.each([
    ['an int that is not one', 'a: !!int 1.5\n'],
    ['a float that is not one', 'a: !!float abc\n'],
    ['a boolean that is not one', 'a: !!bool 1\n'],
  ])('refuses %s', (_, text) => {
    expect(() => load(text)).toThrow(/is not valid YAML/);
  });
});

describe('YAML that PyYAML refuses', () => {
  // Each of these is an error in PyYAML's safe_load (a ParserError), and so in zenbuild.
  it.each([
    ['content after a document end marker', '...\nname: p\n'],
    ['a key left out', ': v\n'],
    ['a block scalar without indentation', '|\nname: p\n'],
    ['two documents', 'a: 1\n---\nb: 2\n'],
    ['a tag PyYAML has no safe constructor for', 'a: !!python/tuple [1]\n'],
    ['a bare `=` (the value key of YAML 1.1)', 'a: =\n'],
  ])('%s', (_, text) => {
    expect(() => load(text)).toThrow(/test\.yaml(:\d+:\d+)? is not valid YAML/);
  });

  it('refuses an empty entry ending a list inside another, which js-yaml 4 would read otherwise', () => {
    // PyYAML: {a: [[x, None], y]}; js-yaml 4 would give [[x, null, y]].
    expect(() => load('a:\n  - - x\n    -\n  - y\n')).toThrow(/test\.yaml:3 is refused: an empty list entry/);
    expect(() => load('a:\n- -\n- b\n')).toThrow(/test\.yaml:2 is refused/);
    // PyYAML: {a: [{b: [x, None]}, c]}.
    expect(() => load('a:\n  - b:\n      - x\n      - # none\n\n  - c\n')).toThrow(/test\.yaml:4 is refused/);
    expect(() => load('a:\r\n  - b:\r\n    - x\r\n    -\r\n  - c\r\n')).toThrow(/test\.yaml:4 is refused/);
    // Where the next entry belongs to the same list, or no entry follows, it is read as PyYAML reads it.
    expect(load('a:\n  - - x\n    - ~\n  - y\n')).toEqual({ a: [['x', null], 'y'] });
    expect(load('a:\n  - x\n  -\nb: 1\n')).toEqual({ a: ['x', null], b: 1 });
    expect(load('a:\n  - b:\n      -\n      - x\n  - c\n')).toEqual({ a: [{ b: [null, 'x'] }, 'c'] });
  });

  it('reads a list as a map key as text, where PyYAML refuses it (docs/dockerfile.md)', () => {
    expect(load('? [a, b]\n: c\n')).toEqual({ 'a,b': 'c' });
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
