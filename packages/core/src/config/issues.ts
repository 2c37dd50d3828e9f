import type { z } from 'zod';
import { invalidInput, type ZenbuildError } from '../errors.js';
import { nearestName } from './nearest-name.js';
import { type ConfigPath, formatPath } from './path.js';

export interface IssueContext {
  /** Where the validated value sits in its document. */
  basePath?: ConfigPath;
  /** The file the value came from, for the message. */
  file?: string;
  /** What was being validated, e.g. "pipeline config". */
  what: string;
}

/**
 * Options for parsing anything a user wrote: an unknown key is reported with the known key it most
 * likely meant. zod hands its error map the schema that raised the issue, so the known keys are there.
 */
export const userInputParse = { error: hintUnknownKeys } as const;

function hintUnknownKeys(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code !== 'unrecognized_keys') return undefined;
  const shape = (issue.inst as { shape?: Record<string, unknown> } | undefined)?.shape;
  const known = shape ? Object.keys(shape) : [];
  // One line per key, in the issue's order; describeIssue puts each under its own path.
  return issue.keys
    .map((key) => {
      const near = nearestName(key, known);
      return `unknown key \`${key}\`${near ? `; did you mean \`${near}\`?` : ''}`;
    })
    .join('\n');
}

/** Turns zod's issues into one ZenbuildError that lists every problem with its full path. */
export function issuesToError(error: z.ZodError, context: IssueContext): ZenbuildError {
  const problems = error.issues.flatMap((issue) => describeIssue(issue, context.basePath ?? []));
  const where = context.file ? ` in ${context.file}` : '';
  const message =
    problems.length === 1
      ? `Invalid ${context.what}${where}: ${problems[0]}`
      : `Invalid ${context.what}${where}:\n${problems.map((p) => `  - ${p}`).join('\n')}`;
  const first = error.issues[0];
  return invalidInput(message, {
    problems,
    ...(context.file ? { file: context.file } : {}),
    ...(first ? { path: formatPath([...(context.basePath ?? []), ...pathOf(first)]) } : {}),
  });
}

function pathOf(issue: z.core.$ZodIssue): ConfigPath {
  return issue.path.filter((p): p is string | number => typeof p !== 'symbol');
}

function describeIssue(issue: z.core.$ZodIssue, basePath: ConfigPath): string[] {
  const path = [...basePath, ...pathOf(issue)];
  if (issue.code === 'unrecognized_keys') {
    const hinted = issue.message.split('\n');
    const lines = hinted.length === issue.keys.length && hinted.every((l) => l.startsWith('unknown key'));
    return issue.keys.map(
      (key, i) => `${formatPath([...path, key])}: ${lines ? hinted[i] : `unknown key \`${key}\``}`,
    );
  }
  if (issue.code === 'invalid_key') {
    // zod says "Invalid key in record"; the key's own rule says what is wrong with it.
    const inner = issue.issues.map((i) => i.message).join('; ');
    return [`${formatPath(path)}: invalid name \`${String(path[path.length - 1])}\`: ${inner}`];
  }
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    // Report the branch that got furthest instead of zod's generic "invalid input".
    const best = [...issue.errors].sort((a, b) => depth(b) - depth(a))[0];
    if (best && best.length > 0 && depth(best) > 0) {
      return best.flatMap((inner) => describeIssue(inner, path));
    }
  }
  if (issue.code === 'invalid_type' && !issue.message.startsWith('Invalid input:')) {
    return [`${formatPath(path)}: ${issue.message}`]; // a message the schema wrote itself
  }
  if (issue.code === 'invalid_type') {
    const received = /received (\w+)/.exec(issue.message)?.[1];
    const got =
      received === 'undefined' ? 'nothing' : (YAML_TYPES[received ?? ''] ?? received ?? 'something else');
    return [`${formatPath(path)}: expected ${YAML_TYPES[issue.expected] ?? issue.expected}, got ${got}`];
  }
  return [`${formatPath(path)}: ${issue.message}`];
}

/** zod's type names in the words of someone writing YAML. */
const YAML_TYPES: Record<string, string> = {
  array: 'a list',
  record: 'a mapping',
  object: 'a mapping',
  map: 'a mapping',
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  null: 'null',
};

function depth(issues: z.core.$ZodIssue[]): number {
  return Math.max(0, ...issues.map((i) => i.path.length));
}
