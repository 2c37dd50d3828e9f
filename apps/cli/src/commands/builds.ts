import {
  BuildStore,
  describeStoreProblem,
  ensureZenbuildHome,
  invalidInput,
  type StoreProblem,
} from '@zenbuild/core';
import type { Io } from '../io.js';

/** The build store of `$ZENBUILD_HOME`, telling the user once about each damaged record it skips. */
export function openBuildStore(io: Io, onProblem?: (problem: StoreProblem) => void): BuildStore {
  return new BuildStore(ensureZenbuildHome(io.env), {
    onProblem: onProblem ?? ((problem) => io.err(`warning: ${describeStoreProblem(problem)}`)),
  });
}

/** `zenbuild builds list`: the recorded pipeline builds, newest first. */
export async function buildsListCommand(
  io: Io,
  options: { pipeline?: string; json?: boolean },
): Promise<number> {
  const store = openBuildStore(io);
  const records = await store.list(options.pipeline ? { pipeline: options.pipeline } : {});
  if (options.json) {
    io.json({ builds: records });
    return 0;
  }
  if (records.length === 0) {
    io.out(
      `No builds recorded${options.pipeline ? ` for pipeline \`${options.pipeline}\`` : ''} in ${store.home}.`,
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
  ]);
  io.out(table([['ID', 'PIPELINE', 'STACK', 'IMAGES', 'KIND', 'CREATED'], ...rows]));
  return 0;
}

/** `zenbuild builds show ID`: one pipeline-build record. */
export async function buildsShowCommand(io: Io, id: string, options: { json?: boolean }): Promise<number> {
  let damaged: StoreProblem | undefined;
  const store = openBuildStore(io, (problem) => {
    damaged = problem;
  });
  const record = await store.get(id);
  if (damaged)
    throw invalidInput(
      `The record of build \`${id}\` is damaged: ${damaged.file}: ${damaged.message}. \`zenbuild builds check --fix\` moves it aside.`,
      { file: damaged.file },
    );
  if (!record)
    throw invalidInput(
      `No build with id \`${id}\` in ${store.home}; \`zenbuild builds list\` shows the ids.`,
    );
  if (options.json) {
    io.json(record);
    return 0;
  }
  const lines = [
    `Build ${record.id}: pipeline \`${record.pipeline}\` on stack \`${record.stack}\`${record.reused ? ' (reused an earlier build)' : ''}`,
    `Created:  ${record.createdAt}, took ${(record.durationMs / 1000).toFixed(1)} s`,
    `Registry: ${record.registry ?? '(none: local images)'}`,
    `Checksum: ${record.checksum}`,
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

/** `zenbuild builds check [--fix]`: the damaged files in the store; with --fix, moved aside. */
export async function buildsCheckCommand(
  io: Io,
  options: { fix?: boolean; json?: boolean },
): Promise<number> {
  const store = openBuildStore(io, () => {});
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
