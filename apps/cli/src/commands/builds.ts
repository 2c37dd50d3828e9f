import {
  defaultStack,
  describeStoreProblem,
  ensureZenbuildHome,
  invalidInput,
  LocalBuildStore,
  loadStack,
  type OpenedBuildStore,
  openBuildStore,
  type PipelineBuildRecord,
  type Stack,
  type StoreChoice,
  type StoreProblem,
} from '@zenbuild/core';
import { InvalidArgumentError } from 'commander';
import type { Io } from '../io.js';

interface StoreOptions {
  /** `--stack FILE`: its artifact store holds the builds when it is shared. */
  stack?: string;
  store?: StoreChoice;
}

/**
 * The build store a `builds` command reads: the stack's (shared through its artifact store when that
 * is s3 or gcs) or this machine's, telling the user once about each record it skips.
 */
async function storeFor(
  io: Io,
  options: StoreOptions,
  onProblem?: (problem: StoreProblem) => void,
): Promise<OpenedBuildStore & { stack: Stack }> {
  const stack = options.stack ? (await loadStack(options.stack, { env: io.env })).stack : defaultStack();
  io.secrets.merge(stack.secrets);
  const opened = await openBuildStore({
    stack,
    env: io.env,
    ...(options.store ? { choice: options.store } : {}),
    onProblem: onProblem ?? ((problem) => io.err(`warning: ${describeStoreProblem(problem)}`)),
  });
  return { ...opened, stack };
}

/** Where the steps get their code, as the record says. */
function describeCode(record: PipelineBuildRecord): string {
  const code = record.code;
  if (!code) return record.containsCode ? 'inside the images' : '(not recorded)';
  if ('path' in code) return `the archive ${code.path}`;
  return `${code.repository} (${code.url}) at commit ${code.commit}${code.subdirectory === '.' ? '' : `, folder ${code.subdirectory}`}`;
}

/** Who made a build, in a few words: the CI run, else user@host. */
function madeBy(record: PipelineBuildRecord): string {
  const by = record.createdBy;
  if (!by) return '';
  return by.ci ? `${by.ci.provider} ${by.ci.runId}` : `${by.user}@${by.host}`;
}

/** `zenbuild builds list`: the recorded pipeline builds, newest first. */
export async function buildsListCommand(
  io: Io,
  options: StoreOptions & { pipeline?: string; json?: boolean },
): Promise<number> {
  const { store } = await storeFor(io, options);
  const records = await store.list(options.pipeline ? { pipeline: options.pipeline } : {});
  if (options.json) {
    io.json({ store: store.location, builds: records });
    return 0;
  }
  if (records.length === 0) {
    io.out(
      `No builds recorded${options.pipeline ? ` for pipeline \`${options.pipeline}\`` : ''} in ${store.location}.`,
    );
    return 0;
  }
  const rows = records.map((r) => [
    r.id,
    r.pipeline,
    r.stack,
    String(Object.keys(r.images).length),
    r.reused ? 'reused' : 'built',
    r.createdAt,
    madeBy(r),
  ]);
  io.out(table([['ID', 'PIPELINE', 'STACK', 'IMAGES', 'KIND', 'CREATED', 'BY'], ...rows]));
  return 0;
}

/** `zenbuild builds show ID`: one pipeline-build record, by id or a unique prefix of one. */
export async function buildsShowCommand(
  io: Io,
  id: string,
  options: StoreOptions & { json?: boolean },
): Promise<number> {
  let damaged: StoreProblem | undefined;
  const { store } = await storeFor(io, options, (problem) => {
    damaged = problem;
  });
  const record = await store.get(id);
  if (damaged)
    throw invalidInput(
      damaged.kind === 'newer'
        ? `The record of build \`${id}\` cannot be read by this zenbuild: ${damaged.file}: ${damaged.message}.`
        : `The record of build \`${id}\` is damaged: ${damaged.file}: ${damaged.message}. \`zenbuild builds check --fix\` moves it aside.`,
      { file: damaged.file },
    );
  if (!record)
    throw invalidInput(
      `No build with id \`${id}\` in ${store.location}; \`zenbuild builds list\` shows the ids.`,
    );
  if (options.json) {
    io.json(record);
    return 0;
  }
  const by = madeBy(record);
  const lines = [
    `Build ${record.id}: pipeline \`${record.pipeline}\` on stack \`${record.stack}\`${record.reused ? ' (reused an earlier build)' : ''}`,
    `Created:  ${record.createdAt}, took ${(record.durationMs / 1000).toFixed(1)} s${by ? `, by ${by}` : ''} (zenbuild ${record.zenbuildVersion})`,
    `Registry: ${record.registry ?? '(none: local images)'}`,
    `Checksum: ${record.checksum}`,
    `Store:    ${store.location}`,
    `Code:     ${describeCode(record)}`,
    '',
  ];
  for (const [key, image] of Object.entries(record.images)) {
    lines.push(
      `Image ${key}`,
      `  image:             ${image.image}`,
      `  settings checksum: ${image.settingsChecksum}`,
    );
    if (image.tag) lines.push(`  tag:               ${image.tag}`);
    lines.push(`  contains code:     ${image.containsCode ? 'yes' : 'no'}`, '');
  }
  io.out(lines.join('\n'));
  return 0;
}

/**
 * `zenbuild builds sync --stack FILE`: the records a build kept on this machine because the stack's
 * shared store could not take them, uploaded now. A record already there is left as it is.
 */
export async function buildsSyncCommand(io: Io, options: { stack: string; json?: boolean }): Promise<number> {
  const opened = await storeFor(io, { stack: options.stack, store: 'stack' });
  const stackName = opened.stack.name;
  const uploaded: string[] = [];
  const present: string[] = [];
  for (const record of (await opened.local.list()).filter((r) => r.stack === stackName && !r.reused)) {
    if (await opened.store.get(record.id)) {
      present.push(record.id);
      continue;
    }
    await opened.store.save(record);
    uploaded.push(record.id);
  }
  if (options.json) {
    io.json({ store: opened.store.location, uploaded, alreadyThere: present });
    return 0;
  }
  io.out(
    `Uploaded ${uploaded.length} build(s) of stack \`${stackName}\` to ${opened.store.location}${present.length > 0 ? `; ${present.length} already there` : ''}.`,
  );
  return 0;
}

const DURATION_UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `30d`, `12h`, `2w`, `90m` in milliseconds. */
export function parseDuration(value: string): number {
  const match = /^(\d+)([mhdw])$/.exec(value.trim());
  const unit = match?.[2] ? DURATION_UNITS[match[2]] : undefined;
  if (!match || unit === undefined || Number(match[1]) <= 0)
    throw new InvalidArgumentError('must be a number and a unit: m (minutes), h, d or w, e.g. 30d');
  return Number(match[1]) * unit;
}

/**
 * `zenbuild builds prune --older-than D | --keep N [--pipeline NAME] [--yes]`: the records to delete,
 * listed; deleted only with `--yes`. Records only: images stay where they are.
 */
export async function buildsPruneCommand(
  io: Io,
  options: StoreOptions & {
    olderThan?: number;
    keep?: number;
    pipeline?: string;
    yes?: boolean;
    json?: boolean;
  },
): Promise<number> {
  if ((options.olderThan === undefined) === (options.keep === undefined))
    throw invalidInput('builds prune needs one of `--older-than DURATION` or `--keep N`.');
  const { store } = await storeFor(io, options);
  const records = await store.list(options.pipeline ? { pipeline: options.pipeline } : {});
  let doomed: PipelineBuildRecord[];
  if (options.olderThan !== undefined) {
    const before = Date.now() - options.olderThan;
    doomed = records.filter((r) => Date.parse(r.createdAt) < before);
  } else {
    const seen = new Map<string, number>();
    doomed = records.filter((r) => {
      const count = (seen.get(r.pipeline) ?? 0) + 1;
      seen.set(r.pipeline, count);
      return count > (options.keep ?? 0);
    });
  }
  if (options.yes) for (const record of doomed) await store.delete(record.id);
  if (options.json) {
    io.json({ store: store.location, deleted: options.yes === true, builds: doomed.map((r) => r.id) });
    return 0;
  }
  if (doomed.length === 0) {
    io.out(`Nothing to prune in ${store.location}.`);
    return 0;
  }
  const list = doomed.map((r) => `  ${r.id}  ${r.pipeline}  ${r.createdAt}`).join('\n');
  io.out(
    options.yes
      ? `Deleted ${doomed.length} build record(s) from ${store.location} (their images are untouched):\n${list}`
      : `Would delete ${doomed.length} build record(s) from ${store.location} (records only, never images):\n${list}\nRun again with --yes to delete them.`,
  );
  return 0;
}

/** `zenbuild builds check [--fix]`: the damaged files in the store; with --fix, moved aside. */
export async function buildsCheckCommand(
  io: Io,
  options: { fix?: boolean; json?: boolean },
): Promise<number> {
  const store = new LocalBuildStore(ensureZenbuildHome(io.env));
  const problems = await store.check();
  const moved = options.fix ? await store.moveAside(problems) : [];
  if (options.json) {
    io.json({
      home: store.home,
      damaged: problems.map((p) => ({
        ...p,
        movedTo: moved.find((m) => m.file === p.file)?.movedTo ?? null,
      })),
    });
    return problems.length > 0 && !options.fix ? 1 : 0;
  }
  if (problems.length === 0) {
    io.out(`Every record in ${store.home} is readable.`);
    return 0;
  }
  for (const problem of problems) io.out(`${problem.file}: ${problem.message}`);
  if (options.fix) {
    io.out(`Moved ${moved.length} damaged file(s) to ${store.home}/damaged/.`);
    return 0;
  }
  io.out(`${problems.length} damaged file(s); \`zenbuild builds check --fix\` moves them aside.`);
  return 1;
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, col) => cell.padEnd(widths[col] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
