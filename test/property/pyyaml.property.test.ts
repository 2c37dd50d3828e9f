import { spawnSync } from 'node:child_process';
import { parseYaml } from '@zenbuild/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CONFIG_LINES, linesOf } from './yaml-lines.js';

// ZenML reads configs with PyYAML's safe_load, so PyYAML itself is the oracle: Debian's python3-yaml
// (scripts/test-infra.sh installs it) reads every generated text, and zenbuild must read the same
// values, or refuse what PyYAML refuses. Values are compared as ZenML writes them: str() of each
// scalar (`True`, `493`, `1.0`), which is how zenbuild documents its reading (docs/dockerfile.md).
// `pnpm fuzz` runs more cases (ZENBUILD_FUZZ_RUNS); a failure prints its seed (ZENBUILD_FUZZ_SEED).
const numRuns = Number(process.env.ZENBUILD_FUZZ_RUNS ?? 60) * 20;
const seed = Number(process.env.ZENBUILD_FUZZ_SEED ?? Date.now() % 1_000_000);
// About half a millisecond a case for both readers; room for a slow machine.
const timeout = Math.max(30_000, numRuns * 3);

type Outcome = { ok: true; value: unknown } | { ok: false; error: string };

const PYYAML = `
import json, sys, yaml
def text(v):
    if v is None: return None
    if isinstance(v, dict): return {str(k): text(x) for k, x in v.items()}
    if isinstance(v, list): return [text(x) for x in v]
    return str(v)
out = []
for case in json.load(sys.stdin):
    try: out.append({'ok': True, 'value': text(yaml.safe_load(case))})
    except Exception as e: out.append({'ok': False, 'error': str(e)})
json.dump(out, sys.stdout)
`;

/** PyYAML's reading of each text, as ZenML would write the values. */
function pyyamlRead(cases: string[]): Outcome[] {
  const result = spawnSync('/usr/bin/python3', ['-c', PYYAML], {
    input: JSON.stringify(cases),
    maxBuffer: 1 << 28,
  });
  if (result.status !== 0) throw new Error(`python3-yaml: ${result.stderr}`);
  return JSON.parse(result.stdout.toString());
}

/** zenbuild's reading of the same text, its scalars as str() writes them. */
function zenbuildRead(text: string): Outcome {
  const asText = (v: unknown): unknown => {
    if (v === null) return null;
    if (Array.isArray(v)) return v.map(asText);
    if (typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, asText(x)]));
    if (typeof v === 'boolean') return v ? 'True' : 'False';
    return String(v);
  };
  try {
    return { ok: true, value: asText(parseYaml(text, 'case.yaml', 'pipeline config')) };
  } catch (error) {
    return { ok: false, error: String(error) };
  }
}

/** Scalars as configs write them: YAML 1.1 booleans, octal, sexagesimal, floats, nulls, quoted forms. */
const scalar = fc.oneof(
  fc.constantFrom(
    'yes',
    'No',
    'on',
    'OFF',
    'y',
    'n',
    'true',
    'False',
    '0755',
    '0o17',
    '0x1f',
    '0b101',
    '1_000',
    '1:20',
    '-010',
    '12345678901234567890',
    '1.0',
    '3.10',
    '1e3',
    '1.5e-7',
    '.inf',
    '-.Inf',
    '.nan',
    '0.5',
    '-0.0',
    '~',
    'null',
    'NULL',
    '',
    '2024-01-01',
    '"yes"',
    "'0755'",
    '"a: b"',
    '"x\\ty"',
    "'it''s'",
    'pandas==2.2.2',
    'python:3.11-slim',
    '/opt/venv/bin:$PATH',
    'a b',
    '+1',
    '1.',
    '.5',
    '<<',
    '=',
    '!',
    '-',
  ),
  fc.stringMatching(/^[a-z][a-z0-9_.:/=-]{0,12}$/),
);

const key = fc
  .stringMatching(/^[a-z][a-z0-9_]{0,8}$/)
  .filter((k) => !/^(y|n|yes|no|on|off|true|false|null)$/.test(k));

/** A config-shaped document: nested maps and lists of those scalars, in block and flow style. */
function render(value: unknown, indent: number, flow: boolean): string {
  const pad = ' '.repeat(indent);
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    if (flow || value.length === 0) return `[${value.map((v) => render(v, 0, true)).join(', ')}]`;
    return value.map((v) => `\n${pad}- ${render(v, indent + 2, false).trimStart()}`).join('');
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (flow || entries.length === 0)
    return `{${entries.map(([k, v]) => `${k}: ${render(v, 0, true)}`).join(', ')}}`;
  return entries
    .map(([k, v]) => {
      const inner = render(v, indent + 2, false);
      return `\n${pad}${k}:${inner.startsWith('\n') ? inner : ` ${inner}`}`;
    })
    .join('');
}

const tree = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('node'), { maxLength: 3 }),
    fc.dictionary(key, tie('node'), { maxKeys: 3 }),
  ),
}));

const document = fc
  .tuple(
    fc.dictionary(key, tree.node, { minKeys: 1, maxKeys: 4 }),
    fc.boolean(),
    fc.constantFrom('', '---\n', '# c\n'),
  )
  .map(([top, flow, head]) => `${head}${render(top, 0, flow).trimStart()}\n`);

/** Lines of config-like YAML in any order, with anchors, aliases, merge keys and scalar styles. */
const soup = linesOf(
  [
    ...CONFIG_LINES,
    '  - 1:20',
    'base: &b {x: 1, y: yes}',
    'use: {<<: *b, z: 0755}',
    '<<: *b',
    'k: *b',
    '  k2: ~',
    'x: 1.5e3',
    'y: .5',
    '- [a, {b: c}]',
    'z: "q"',
    '# note',
    'a: b: c',
    'e: >',
    '  folded',
    'l: |',
    '  literal',
    '  ',
    'w: !!str 12',
    'v: !!int "7"',
    'f: !!float 1',
  ],
  fc.stringMatching(/^[ a-z0-9:'"{}[\],#&*!|>-]{0,10}$/),
  10,
).map((text) => `${text}\n`);

const refusal = (outcome: Outcome) => (outcome.ok ? '' : outcome.error);

/** Every key of a value, at any depth. */
const keysOf = (value: unknown): string[] =>
  value === null || typeof value !== 'object'
    ? []
    : Array.isArray(value)
      ? value.flatMap(keysOf)
      : Object.entries(value).flatMap(([k, v]) => [k, ...keysOf(v)]);

/** Where zenbuild reads YAML otherwise than PyYAML: each is in docs/dockerfile.md. */
const KNOWN_DIFFERENCES: Array<[why: string, applies: (py: Outcome, zb: Outcome, text: string) => boolean]> =
  [
    ['a key given twice is refused', (py, zb) => py.ok && /Map keys must be unique/.test(refusal(zb))],
    ['`<<` as a value is text', (py, zb) => zb.ok && /tag:yaml.org,2002:merge/.test(refusal(py))],
    ['a list or mapping as a key is text', (py, zb) => zb.ok && /unhashable key/.test(refusal(py))],
    [
      'a bare `-` in [...] or {...} is refused',
      (py, zb, text) => py.ok && !zb.ok && /[[{,:]\s*-\s*[\]},]/.test(text),
    ],
    [
      'an empty entry ending a list inside another is refused',
      (_py, zb) => /an empty list entry/.test(refusal(zb)),
    ],
    [
      'a null or boolean key is `null`/`true`, not `None`/`True`',
      (py) => keysOf(py.ok && py.value).some((k) => /^(None|True|False)$/.test(k)),
    ],
    [
      'anchors may be named with any visible characters',
      (py, zb) => zb.ok && /scanning an (anchor|alias)/.test(refusal(py)),
    ],
  ];

/** A value with its keys sorted: PyYAML puts keys merged with `<<` first, zenbuild where `<<` stands. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_, v) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort()) : v,
  );

/** The cases read otherwise than PyYAML reads them; with `strict`, also those one refuses and one reads. */
function disagreements(cases: string[], strict: boolean): string[] {
  const expected = pyyamlRead(cases);
  const found: string[] = [];
  cases.forEach((text, i) => {
    const py = expected[i] as Outcome;
    // zenbuild refuses any document that is not a mapping; PyYAML's reading of it does not matter.
    if (py.ok && (py.value === null || typeof py.value !== 'object' || Array.isArray(py.value))) return;
    const zb = zenbuildRead(text);
    if (py.ok && zb.ok && canonical(zb.value) === canonical(py.value)) return;
    if (!(py.ok && zb.ok) && (!strict || (!py.ok && !zb.ok))) return;
    if (KNOWN_DIFFERENCES.some(([, applies]) => applies(py, zb, text))) return;
    found.push(
      `${JSON.stringify(text)}\n  PyYAML:   ${JSON.stringify(py)}\n  zenbuild: ${JSON.stringify(zb)}`,
    );
  });
  return found;
}

describe('property: YAML is read as PyYAML reads it', () => {
  it(
    `config-shaped documents: PyYAML's values, or refused where PyYAML refuses (seed ${seed})`,
    () => {
      const cases = fc.sample(document, { numRuns, seed });
      expect(disagreements(cases, true).slice(0, 5)).toEqual([]);
    },
    timeout,
  );

  // Random lines hit the corners where two YAML parsers disagree on what is valid (tabs, block scalars
  // at column 0); what must never happen is a text both read, read differently.
  it(
    `lines in any order: where both read a text, the same values (seed ${seed})`,
    () => {
      const cases = fc.sample(soup, { numRuns, seed });
      expect(disagreements(cases, false).slice(0, 5)).toEqual([]);
    },
    timeout,
  );
});
