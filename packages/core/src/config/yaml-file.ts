import { readFile } from 'node:fs/promises';
import { load, YAMLException } from 'js-yaml';
import { invalidInput } from '../errors.js';
import { readProblem } from './file-problem.js';
import { PYYAML_SCHEMA } from './pyyaml.js';

/**
 * Reads a YAML file into plain data. Missing files, unreadable files, YAML syntax errors and duplicate
 * keys are input errors that name the file (and line), never stack traces.
 */
export async function readYamlFile(file: string, what: string): Promise<unknown> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw invalidInput(`The ${what} ${file} ${readProblem(error)}.`, { file });
  }
  return parseYaml(decodeUtf8(bytes, file, what), file, what);
}

/** YAML is text in UTF-8 (PyYAML refuses other bytes too); invalid bytes are an error, not U+FFFD. */
function decodeUtf8(bytes: Buffer, file: string, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const text = bytes.toString('utf8');
    const line = text.slice(0, text.indexOf('\uFFFD')).split('\n').length;
    throw invalidInput(`The ${what} ${file}:${line} is not valid UTF-8 text; save the file as UTF-8.`, {
      file,
    });
  }
}

/** A list entry with nothing in it (`-`, `- -`, `- # note`): its dash is the last one on the line. */
const EMPTY_LIST_ENTRY = /^( *(?:- +)*)-(?: +#.*)? *$/;
const ANY_EMPTY_LIST_ENTRY = /^ *(?:- +)*-(?: +#.*)? *\r?$/m;
/** A list entry, and how far it is indented. */
const LIST_ENTRY = /^( *)-(?: |$)/;
/** A line that is blank or only a comment. */
const NOTHING = /^ *(?:#.*)?$/;

/**
 * js-yaml 4 reads an empty entry that ends a list nested in another (`- b:` or `- - x`, then `-`) as
 * taking in the next entry of the outer list, where PyYAML ends the inner list. The line of the first
 * such entry, if the text has one: an empty entry whose next line is an entry indented less.
 */
function emptyEntryEndingNestedList(text: string): number | undefined {
  if (!ANY_EMPTY_LIST_ENTRY.test(text)) return undefined;
  let pending: { dash: number; line: number } | undefined;
  const lines = text.split(/\r?\n/);
  for (const [index, line] of lines.entries()) {
    if (NOTHING.test(line)) continue;
    const entry = pending && LIST_ENTRY.exec(line);
    if (pending && entry && (entry[1]?.length ?? 0) < pending.dash) return pending.line;
    const empty = EMPTY_LIST_ENTRY.exec(line);
    pending = empty ? { dash: empty[1]?.length ?? 0, line: index + 1 } : undefined;
  }
  return undefined;
}

export function parseYaml(text: string, file: string, what: string): unknown {
  const line = emptyEntryEndingNestedList(text);
  if (line !== undefined) {
    throw invalidInput(
      `The ${what} ${file}:${line} is refused: an empty list entry (\`-\`) that ends a list inside another is read otherwise by zenbuild's YAML reader than by ZenML's. Write the empty entry as \`~\` (null).`,
      { file },
    );
  }
  let data: unknown;
  try {
    // YAML 1.1 with PyYAML's resolvers (pyyaml.ts): ZenML reads configs with PyYAML. js-yaml 4: it reads
    // a 2,000-step config in a fresh process (a CLI's only kind) in two thirds of js-yaml 5's time, and
    // refuses what PyYAML refuses far more often (test/property/pyyaml.property.test.ts compares them).
    // Aliases share their value; refuseExpansion below counts what a walk would see.
    data = load(text, { schema: PYYAML_SCHEMA, filename: file });
  } catch (error) {
    if (!(error instanceof YAMLException)) throw error;
    const where = error.mark ? `${file}:${error.mark.line + 1}:${error.mark.column + 1}` : file;
    // PyYAML keeps the last of two equal keys silently; zenbuild says so, a repeated key drops a setting.
    const reason =
      error.reason === 'duplicated mapping key'
        ? 'Map keys must be unique (a key is given twice)'
        : error.reason;
    throw invalidInput(`The ${what} ${where} is not valid YAML: ${reason}`, { file });
  }
  if (data === null || data === undefined) {
    throw invalidInput(`The ${what} ${file} is empty.`, { file });
  }
  // Without an alias (`*name`) the data is no bigger than the text: nothing to count.
  if (text.includes('*')) refuseExpansion(data, file, what);
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw invalidInput(`The ${what} ${file} must be a YAML mapping at the top level.`, { file });
  }
  return data;
}

/** More values than any config holds: 2,000 steps are about 20,000. */
const MAX_VALUES = 1_000_000;

/**
 * A few aliases can stand for billions of values ("billion laughs": each level repeats the one below),
 * which js-yaml shares but every later walk over the config would expand. Counted as a walk sees them.
 */
function refuseExpansion(data: unknown, file: string, what: string): void {
  const stack: unknown[] = [data];
  let count = 0;
  while (stack.length > 0) {
    const value = stack.pop();
    if (++count > MAX_VALUES) {
      throw invalidInput(
        `The ${what} ${file} is refused: its aliases (*name) expand to too many values (over ${MAX_VALUES.toLocaleString('en')}).`,
        { file },
      );
    }
    if (Array.isArray(value)) stack.push(...value);
    else if (value !== null && typeof value === 'object') stack.push(...Object.values(value));
  }
}
