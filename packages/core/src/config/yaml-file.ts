import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { invalidInput } from '../errors.js';
import { readProblem } from './file-problem.js';

/**
 * Reads a YAML file into plain data. Missing files, unreadable files, YAML syntax errors and duplicate
 * keys are input errors that name the file (and line), never stack traces.
 */
export async function readYamlFile(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw invalidInput(`The ${what} ${file} ${readProblem(error)}.`, { file });
  }
  return parseYaml(text, file, what);
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
  const data = document.toJS({ maxAliasCount: 100 });
  if (data === null || data === undefined) {
    throw invalidInput(`The ${what} ${file} is empty.`, { file });
  }
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw invalidInput(`The ${what} ${file} must be a YAML mapping at the top level.`, { file });
  }
  return data;
}
