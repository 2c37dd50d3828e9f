import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { invalidInput } from '../errors.js';
import { readProblem } from './file-problem.js';

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

export function parseYaml(text: string, file: string, what: string): unknown {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    const first = document.errors[0];
    const line = first?.linePos?.[0];
    const where = line ? `${file}:${line.line}:${line.col}` : file;
    const detail = (first?.message ?? 'syntax error').split('\n')[0];
    throw invalidInput(`The ${what} ${where} is not valid YAML: ${detail}`, {
      file,
      problems: document.errors.map((e) => e.message.split('\n')[0] ?? e.message),
    });
  }
  let data: unknown;
  try {
    data = document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // The yaml library stops an alias that expands without bound (a "billion laughs" document).
    if (error instanceof ReferenceError) {
      throw invalidInput(
        /excessive alias count/i.test(error.message)
          ? `The ${what} ${file} is refused: its aliases (*name) expand to too many values.`
          : `The ${what} ${file} is not valid YAML: ${error.message}`,
        { file },
      );
    }
    throw error;
  }
  if (data === null || data === undefined) {
    throw invalidInput(`The ${what} ${file} is empty.`, { file });
  }
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw invalidInput(`The ${what} ${file} must be a YAML mapping at the top level.`, { file });
  }
  return data;
}
