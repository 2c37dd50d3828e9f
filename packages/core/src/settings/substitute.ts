import { type ConfigPath, formatPath } from '../config/path.js';
import { invalidInput } from '../errors.js';

/**
 * ZenML's placeholder (`\$\{([a-zA-Z0-9_]+)\}` in src/zenml/utils/env_utils.py), plus an escape
 * ZenML does not have: `$${NAME}` is the literal text `${NAME}`.
 */
const PLACEHOLDER = /\$(\$?)\{([A-Za-z0-9_]+)\}/g;

export interface Substitution {
  path: string;
  variable: string;
  value: string;
}

export interface SubstitutionResult<T> {
  value: T;
  substitutions: Substitution[];
}

/**
 * Replaces `${VAR}` placeholders (not `$${VAR}`, the escape for a literal `${VAR}`) in every string of a YAML value (recursing into lists and maps,
 * keys included) with values from `env`. A missing variable is an error naming it and where it is used;
 * unlike ZenML we never substitute an empty string silently.
 */
export function substituteEnv<T>(
  input: T,
  env: NodeJS.ProcessEnv,
  basePath: ConfigPath = [],
  file?: string,
): SubstitutionResult<T> {
  const substitutions: Substitution[] = [];

  const replace = (text: string, path: ConfigPath): string =>
    text.replace(PLACEHOLDER, (_match, escaped: string, variable: string) => {
      if (escaped) return `\${${variable}}`;
      const value = env[variable];
      if (value === undefined) {
        throw invalidInput(
          `Environment variable \`${variable}\` is not set, but ${formatPath(path)}${file ? ` in ${file}` : ''} uses \${${variable}}. Set it or remove the placeholder.`,
          { path: formatPath(path), variable, ...(file ? { file } : {}) },
        );
      }
      substitutions.push({ path: formatPath(path), variable, value });
      return value;
    });

  const walk = (value: unknown, path: ConfigPath): unknown => {
    if (typeof value === 'string') return replace(value, path);
    if (Array.isArray(value)) return value.map((item, index) => walk(item, [...path, index]));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        const newKey = replace(key, [...path, key]);
        out[newKey] = walk(item, [...path, newKey]);
      }
      return out;
    }
    return value;
  };

  return { value: walk(input, basePath) as T, substitutions };
}
