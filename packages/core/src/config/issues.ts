import type { z } from 'zod';
import { invalidInput, type ZenbuildError } from '../errors.js';
import { type ConfigPath, formatPath } from './path.js';

export interface IssueContext {
  /** Where the validated value sits in its document. */
  basePath?: ConfigPath;
  /** The file the value came from, for the message. */
  file?: string;
  /** What was being validated, e.g. "pipeline config". */
  what: string;
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
    return issue.keys.map((key) => `${formatPath([...path, key])}: unknown key \`${key}\``);
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
