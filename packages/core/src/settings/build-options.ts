import { z } from 'zod';
import { issuesToError, userInputParse } from '../config/issues.js';
import { nearestName } from '../config/nearest-name.js';
import { type ConfigPath, formatPath } from '../config/path.js';
import type { BuildOptions, BuildSecretSource } from '../contracts.js';
import { invalidInput } from '../errors.js';
import { isRecord } from '../util/is-record.js';

export type { BuildOptions } from '../contracts.js';

// CodeBuild takes a Secrets Manager reference as `secret-id[:json-key[:version-stage[:version-id]]]` and a
// Parameter Store name (its buildspec reference); Cloud Build a Secret Manager version resource name.
const SECRET_SOURCE =
  /^(env:[A-Za-z_][A-Za-z0-9_]*|file:(\/|~\/).+|aws-secretsmanager:\S+|aws-ssm:\S+|gcp-secretmanager:projects\/[^/\s]+\/secrets\/[^/\s]+\/versions\/[^/\s]+)$/;

function secretSourceOf(text: string): BuildSecretSource {
  const colon = text.indexOf(':');
  const [kind, rest] = [text.slice(0, colon), text.slice(colon + 1)];
  if (kind === 'env') return { env: rest };
  if (kind === 'file') return { file: rest };
  if (kind === 'aws-secretsmanager') return { awsSecretsManager: rest };
  if (kind === 'aws-ssm') return { awsParameterStore: rest };
  return { gcpSecretManager: rest };
}

export type BuildOptionName = keyof BuildOptions;

/** Canonical YAML names (snake_case), their typed names, and the other spellings people use. */
const OPTION_SPELLINGS: Record<BuildOptionName, { yaml: string; aliases: string[] }> = {
  buildArgs: { yaml: 'build_args', aliases: ['buildargs', 'buildArgs'] },
  target: { yaml: 'target', aliases: [] },
  platform: { yaml: 'platform', aliases: [] },
  labels: { yaml: 'labels', aliases: [] },
  noCache: { yaml: 'no_cache', aliases: ['nocache', 'noCache'] },
  pull: { yaml: 'pull', aliases: [] },
  rm: { yaml: 'rm', aliases: [] },
  forceRm: { yaml: 'force_rm', aliases: ['forcerm', 'forceRm'] },
  network: { yaml: 'network', aliases: ['network_mode', 'networkMode'] },
  cacheFrom: { yaml: 'cache_from', aliases: ['cachefrom', 'cacheFrom'] },
  shmSize: { yaml: 'shm_size', aliases: ['shmsize', 'shmSize'] },
  extraHosts: { yaml: 'extra_hosts', aliases: ['extrahosts', 'extraHosts'] },
  squash: { yaml: 'squash', aliases: [] },
  isolation: { yaml: 'isolation', aliases: [] },
  secrets: { yaml: 'secrets', aliases: [] },
};

/** docker-py keys that zenbuild sets itself; a user value would silently fight the build. */
const RESERVED = new Set(['tag', 't', 'dockerfile', 'path', 'fileobj', 'custom_context', 'encoding']);

const SPELLING_TO_NAME = new Map<string, BuildOptionName>();
for (const [name, spelling] of Object.entries(OPTION_SPELLINGS) as [
  BuildOptionName,
  { yaml: string; aliases: string[] },
][]) {
  SPELLING_TO_NAME.set(spelling.yaml, name);
  for (const alias of spelling.aliases) SPELLING_TO_NAME.set(alias, name);
}

export const KNOWN_BUILD_OPTION_KEYS: readonly string[] = [...SPELLING_TO_NAME.keys()].sort();

const scalarString = z
  .union([z.string(), z.number(), z.boolean()])
  .transform((v) => String(v))
  .pipe(z.string());
const stringMap = z.record(z.string().min(1, 'must not be empty'), scalarString);

const buildOptionsSchema = z.strictObject({
  buildArgs: stringMap.optional(),
  target: z.string().min(1).optional(),
  platform: z
    .string()
    .regex(/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?(,[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?)*$/, {
      message: 'must look like `linux/amd64` (os/arch[/variant], comma-separated for several)',
    })
    .optional(),
  labels: stringMap.optional(),
  noCache: z.boolean().optional(),
  pull: z.boolean().optional(),
  rm: z.boolean().optional(),
  forceRm: z.boolean().optional(),
  network: z.string().min(1).optional(),
  cacheFrom: z
    .union([z.string().min(1), z.array(z.string().min(1))])
    .transform((v) => (Array.isArray(v) ? v : [v]))
    .optional(),
  shmSize: z.number().int().positive().optional(),
  extraHosts: stringMap.optional(),
  squash: z.boolean().optional(),
  isolation: z.string().min(1).optional(),
  // `ID: env:VARIABLE` or `ID: file:/absolute/path`, as `docker build --secret id=ID,env=…|src=…`; for
  // the cloud builders a secret store the service reads during the build.
  secrets: z
    .record(
      z.string().regex(/^[A-Za-z0-9_.-]+$/, 'a secret id is letters, digits, `_`, `.` and `-`'),
      z
        .string()
        .regex(
          SECRET_SOURCE,
          'must be `env:VARIABLE`, `file:PATH` (absolute, or under `~/`), `aws-secretsmanager:SECRET`, `aws-ssm:PARAMETER` or `gcp-secretmanager:projects/P/secrets/S/versions/V`',
        )
        .transform(secretSourceOf),
    )
    .optional(),
});

/**
 * Validates build options given in any accepted spelling (`build_args`, docker-py's `buildargs`,
 * `buildArgs`) and returns the typed model. Unknown keys and two spellings of one option are errors
 * that name the key.
 */
export function parseBuildOptions(input: unknown, basePath: ConfigPath = [], file?: string): BuildOptions {
  if (input === undefined || input === null) return {};
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw invalidInput(`${formatPath(basePath)}: build options must be a mapping of option names to values`, {
      path: formatPath(basePath),
    });
  }
  const normalised: Record<string, unknown> = {};
  const spelledAs = new Map<BuildOptionName, string>();
  for (const [key, value] of Object.entries(input)) {
    const path = formatPath([...basePath, key]);
    if (RESERVED.has(key)) {
      throw invalidInput(
        `${path}: \`${key}\` is set by zenbuild for every build and cannot be given as a build option`,
        { path },
      );
    }
    const name = SPELLING_TO_NAME.get(key);
    if (!name) {
      const near = nearestName(key, KNOWN_BUILD_OPTION_KEYS);
      throw invalidInput(
        `${path}: unknown build option \`${key}\`${near ? `; did you mean \`${near}\`?` : '.'} Known options: ${KNOWN_BUILD_OPTION_KEYS.join(', ')}`,
        { path },
      );
    }
    const previous = spelledAs.get(name);
    if (previous !== undefined) {
      throw invalidInput(`${path}: \`${key}\` and \`${previous}\` are the same option; give it once`, {
        path,
      });
    }
    spelledAs.set(name, key);
    if (value !== null && value !== undefined) normalised[name] = value;
  }
  const result = buildOptionsSchema.safeParse(normalised, userInputParse);
  if (!result.success) {
    // Report paths with the spelling the user wrote.
    const issues = result.error.issues.map((issue) => {
      const head = issue.path[0];
      const spelled = typeof head === 'string' ? spelledAs.get(head as BuildOptionName) : undefined;
      return spelled ? { ...issue, path: [spelled, ...issue.path.slice(1)] } : issue;
    });
    throw issuesToError(new z.ZodError(issues), {
      what: 'build options',
      basePath,
      ...(file ? { file } : {}),
    });
  }
  return dropUndefined(result.data) as BuildOptions;
}

/** The YAML (snake_case) name of a typed option, for messages and plan output. */
export function buildOptionYamlName(name: BuildOptionName): string {
  return OPTION_SPELLINGS[name].yaml;
}

/** Later options win key by key; maps (build args, labels, hosts) merge. */
export function mergeBuildOptions(...layers: BuildOptions[]): BuildOptions {
  const out: BuildOptions = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer) as [BuildOptionName, unknown][]) {
      if (value === undefined) continue;
      const current = out[key];
      if (isRecord(current) && isRecord(value)) {
        (out as Record<string, unknown>)[key] = { ...current, ...value };
      } else {
        (out as Record<string, unknown>)[key] = value;
      }
    }
  }
  return out;
}

function dropUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
