import { FAILSAFE_SCHEMA, type Schema, Type, YAMLException } from 'js-yaml';

/**
 * YAML as PyYAML's `safe_load` reads it (YAML 1.1, the resolvers of PyYAML's `resolver.py`), since that
 * is what ZenML reads a config with: `yes`/`on` are booleans, `0755` is octal 493, `1:20` is 80, `1e3`
 * is text (PyYAML's floats need a dot). Values that become text are then written as Python's `str()`
 * writes them: floats as `1.0`, `1e-05`, `inf`; integers past 2^53 exactly. Timestamps stay the text
 * they were written as (`str()` of a date gives the same text back).
 */
const BOOL_TRUE = /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/;
const BOOL = /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const INT =
  /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const FLOAT =
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const NULL = /^(?:~|null|Null|NULL|)$/;

/**
 * A scalar type: `test` says whether a text is of it, `construct` makes its value. In the schema's
 * `implicit` list it is tried on plain scalars; in `explicit`, it reads a tagged one (`!!float 1`) as
 * PyYAML's constructor reads its text, which takes more forms than the resolver: Python's float() and
 * any case of a boolean.
 */
const scalar = (name: string, test: RegExp, construct: (text: string) => unknown) =>
  new Type(`tag:yaml.org,2002:${name}`, {
    kind: 'scalar',
    resolve: (text: string | null) => test.test(text ?? ''),
    construct: (text: string | null) => construct(text ?? ''),
  });

const EXPLICIT_FLOAT =
  /^\s*[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9_]+(?:[eE][-+]?[0-9]+)?|[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|\.?(?:inf|infinity|nan))\s*$/i;
const EXPLICIT_BOOL = /^(?:yes|no|true|false|on|off)$/i;

/**
 * `=` is YAML 1.1's value key; PyYAML resolves it and has no constructor for it, so ZenML cannot load a
 * config with a bare `=` as a value. Said plainly here; quoted (`"="`) it is text.
 */
const VALUE_KEY = new Type('tag:yaml.org,2002:value', {
  kind: 'scalar',
  resolve: (text: string | null) => text === '=',
  construct: () => {
    throw new YAMLException(
      'a bare `=` is YAML 1.1\'s value key, which PyYAML (and so ZenML) cannot read; quote it: "="',
    );
  },
});

/** Sexagesimal `1:20:30`, as PyYAML's constructors compute it. */
function sexagesimal(text: string): number {
  return text.split(':').reduce((total, part) => total * 60 + Number(part), 0);
}

function constructInt(raw: string): number | string {
  let text = raw.replaceAll('_', '');
  let sign = 1n;
  if (text.startsWith('-') || text.startsWith('+')) {
    if (text.startsWith('-')) sign = -1n;
    text = text.slice(1);
  }
  let value: bigint;
  if (text === '0') value = 0n;
  else if (text.startsWith('0b') || text.startsWith('0x')) value = BigInt(text);
  else if (text.startsWith('0')) value = BigInt(`0o${text.slice(1)}`);
  else if (text.includes(':')) value = BigInt(sexagesimal(text));
  else value = BigInt(text);
  value *= sign;
  // A JavaScript number holds integers exactly only up to 2^53; past that, Python's exact text.
  return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
}

function constructFloat(raw: string): number | string {
  const text = raw.replaceAll('_', '').toLowerCase();
  let value: number;
  // `.inf` and `.nan` as YAML writes them; `inf`, `infinity` and `nan` as Python's float() reads them.
  if (/^[-+]?\.?inf(?:inity)?$/.test(text)) value = text.startsWith('-') ? -Infinity : Infinity;
  else if (/^[-+]?\.?nan$/.test(text)) value = Number.NaN;
  else if (text.includes(':')) {
    const sign = text.startsWith('-') ? -1 : 1;
    value = sign * sexagesimal(text.replace(/^[-+]/, ''));
  } else value = Number(text);
  const python = pythonFloatText(value);
  // Where JavaScript would print it otherwise (1.0 as `1`, 1e-05 as `0.00001`), the value is Python's
  // text: every place a float can go in a config renders it as text.
  return String(value) === python ? value : python;
}

/** Python's `repr`/`str` of a float: the shortest digits, exponent form below 1e-4 and from 1e16. */
export function pythonFloatText(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const [mantissa = '', exponentText = '0'] = value.toExponential().split('e');
  const exponent = Number(exponentText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const sign = negative ? '-' : '';
  if (exponent < -4 || exponent >= 16) {
    const body = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exponent).toString().padStart(2, '0');
    return `${sign}${body}e${exponent < 0 ? '-' : '+'}${e}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
  const fraction = digits.slice(exponent + 1);
  return `${sign}${whole}.${fraction || '0'}`;
}

/**
 * PyYAML's schema: strings, lists and mappings, PyYAML's implicit null, bool, int and float, and merge
 * keys (`<<`). Timestamps are not resolved: they stay the text they were written as.
 */
export const PYYAML_SCHEMA: Schema = FAILSAFE_SCHEMA.extend({
  // js-yaml tries these on plain scalars in order. An explicit tag finds the `explicit` type of its name,
  // else the implicit one (`!!int` reads as the resolver does, as PyYAML's int constructor does).
  implicit: [
    scalar('null', NULL, () => null),
    scalar('bool', BOOL, (text) => BOOL_TRUE.test(text)),
    scalar('int', INT, constructInt),
    scalar('float', FLOAT, constructFloat),
    // `<<`: js-yaml merges the pairs of a key with this tag (its own merge type, not in its typings).
    new Type('tag:yaml.org,2002:merge', { kind: 'scalar', resolve: (text) => text === '<<' }),
    VALUE_KEY,
  ],
  explicit: [
    scalar('null', /^/, () => null),
    scalar('bool', EXPLICIT_BOOL, (text) => /^(?:yes|true|on)$/i.test(text)),
    scalar('float', EXPLICIT_FLOAT, (text) => constructFloat(text.trim())),
  ],
});
