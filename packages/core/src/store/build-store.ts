import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BuildQuery, BuildStore, PipelineBuildRecord, StoreProblem } from '../contracts.js';
import { invalidInput } from '../errors.js';
import { writeFileAtomic } from '../home/atomic-write.js';
import { ambiguousPrefix, ID_PATTERN, type ParsedRecord, parseRecord } from './record-schema.js';

export type { BuildRecordImage, PipelineBuildRecord, StoreProblem } from '../contracts.js';

export interface BuildStoreOptions {
  /**
   * Told once per damaged file met while reading; the file is then skipped. Without it, the problem
   * is skipped silently (`check` lists every one).
   */
  onProblem?(problem: StoreProblem): void;
}

/** Sortable by time, unique across processes: `20261123T154210123Z-a1b2c3d4`. */
export function newBuildId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('.', '');
  return `${stamp}-${randomBytes(4).toString('hex')}`;
}

/**
 * Pipeline-build records under `<home>/builds/<id>.json`, one file per record, each written atomically;
 * an index by checksum under `<home>/index/checksum/<checksum>/<id>` made of empty marker files, so
 * concurrent processes never rewrite a shared file and never lose a record. This machine's store.
 */
export class LocalBuildStore implements BuildStore {
  readonly #builds: string;
  readonly #index: string;
  readonly #onProblem: ((problem: StoreProblem) => void) | undefined;
  readonly #reported = new Set<string>();

  constructor(
    readonly home: string,
    options: BuildStoreOptions = {},
  ) {
    this.#builds = path.join(home, 'builds');
    this.#index = path.join(home, 'index', 'checksum');
    this.#onProblem = options.onProblem;
  }

  get location(): string {
    return this.home;
  }

  /**
   * Makes sure a record can be saved here, before anything is built: a build whose record cannot be
   * written would be lost.
   */
  async prepare(): Promise<void> {
    for (const dir of [this.#builds, this.#index]) {
      try {
        await mkdir(dir, { recursive: true });
      } catch (error) {
        throw invalidInput(
          `The build store cannot keep records in ${dir} (${(error as NodeJS.ErrnoException).code ?? String(error)}): something that is not a directory is in its place. \`zenbuild builds check --fix\` moves it aside.`,
          { file: dir },
        );
      }
    }
  }

  async save(record: PipelineBuildRecord): Promise<void> {
    if (!ID_PATTERN.test(record.id)) throw invalidInput(`Invalid build id \`${record.id}\`.`);
    // Record first, index second: an index entry never points at a record that is not there. Linked
    // into place, so a record is never overwritten, not even by a writer that raced this one.
    const written = await writeFileAtomic(
      path.join(this.#builds, `${record.id}.json`),
      `${JSON.stringify(record, null, 2)}\n`,
      { exclusive: true },
    );
    if (!written)
      throw invalidInput(
        `The build store already holds a record ${record.id}; records are never overwritten.`,
      );
    const dir = path.join(this.#index, record.checksum);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, record.id), '');
  }

  /**
   * A record by id or a unique prefix of one; undefined when there is none, or when it is damaged
   * (reported to `onProblem`).
   */
  async get(idOrPrefix: string): Promise<PipelineBuildRecord | undefined> {
    let id = idOrPrefix;
    if (!ID_PATTERN.test(idOrPrefix)) {
      if (!/^[0-9TZ-][0-9a-fTZ-]*$/.test(idOrPrefix)) return undefined;
      const { ids } = await this.#ids();
      const matches = ids.filter((candidate) => candidate.startsWith(idOrPrefix));
      if (matches.length > 1) throw invalidInput(ambiguousPrefix(idOrPrefix, matches));
      if (matches.length === 0 || matches[0] === undefined) return undefined;
      id = matches[0];
    }
    const read = await this.#read(id);
    if (read && 'problem' in read) {
      this.#report(read.problem);
      return undefined;
    }
    return read?.record;
  }

  /** Records, newest first, optionally of one pipeline. Damaged ones are skipped and reported. */
  async list(filter: { pipeline?: string } = {}): Promise<PipelineBuildRecord[]> {
    const { ids, problem } = await this.#ids();
    if (problem) this.#report(problem);
    const records = await Promise.all(ids.map((id) => this.get(id)));
    return records.filter(
      (r): r is PipelineBuildRecord =>
        r !== undefined && (!filter.pipeline || r.pipeline === filter.pipeline),
    );
  }

  /** The records of a pipeline on a stack with a build checksum, newest first. */
  async find(query: BuildQuery): Promise<PipelineBuildRecord[]> {
    const records = await this.findByChecksum(query.checksum);
    return records.filter((r) => r.pipeline === query.pipeline && r.stack === query.stack);
  }

  /** Removes a record and its index entry (never an image). */
  async delete(id: string): Promise<void> {
    if (!ID_PATTERN.test(id)) throw invalidInput(`Invalid build id \`${id}\`.`);
    const read = await this.#read(id);
    if (read && 'record' in read) await rm(path.join(this.#index, read.record.checksum, id), { force: true });
    await rm(path.join(this.#builds, `${id}.json`), { force: true });
  }

  /** Records with a given build checksum, newest first. */
  async findByChecksum(checksum: string): Promise<PipelineBuildRecord[]> {
    if (!/^[0-9a-f]{64}$/.test(checksum)) return [];
    const ids = (await readdirOrEmpty(path.join(this.#index, checksum)).catch(() => [])).filter((id) =>
      ID_PATTERN.test(id),
    );
    const records = await Promise.all(
      ids
        .sort()
        .reverse()
        .map((id) => this.get(id)),
    );
    // An index entry is only a pointer: the record decides (a damaged index must not make a false hit).
    return records.filter((r): r is PipelineBuildRecord => r !== undefined && r.checksum === checksum);
  }

  /** Every damaged file in the store, without reporting: for `zenbuild builds check`. */
  async check(): Promise<StoreProblem[]> {
    const { ids, problem } = await this.#ids();
    if (problem) return [problem];
    const reads = await Promise.all(ids.map((id) => this.#read(id)));
    // A newer zenbuild's record is not damaged: it stays where that zenbuild finds it.
    return reads.flatMap((r) => (r && 'problem' in r && r.problem.kind !== 'newer' ? [r.problem] : []));
  }

  /**
   * Moves damaged files aside into `<home>/damaged/`, where they can still be looked at, and returns
   * where each went.
   */
  async moveAside(problems: StoreProblem[]): Promise<Array<{ file: string; movedTo: string }>> {
    const damaged = path.join(this.home, 'damaged');
    await mkdir(damaged, { recursive: true });
    const stamp = new Date().toISOString().replace(/[-:.]/g, '');
    const moved: Array<{ file: string; movedTo: string }> = [];
    for (const { file } of problems) {
      const movedTo = path.join(damaged, `${path.basename(file)}.${stamp}`);
      await rename(file, movedTo);
      moved.push({ file, movedTo });
    }
    return moved;
  }

  /** The ids of the records in the store, newest first, or why the store's folder cannot be read. */
  async #ids(): Promise<{ ids: string[]; problem?: StoreProblem }> {
    let names: string[];
    try {
      names = await readdirOrEmpty(this.#builds);
    } catch (error) {
      return { ids: [], problem: { file: this.#builds, message: describeReadError(error, 'a directory') } };
    }
    const ids = names
      .filter((name) => name.endsWith('.json'))
      .map((name) => name.slice(0, -'.json'.length))
      .filter((id) => ID_PATTERN.test(id))
      .sort()
      .reverse();
    return { ids };
  }

  async #read(id: string): Promise<ParsedRecord | undefined> {
    if (!ID_PATTERN.test(id)) return undefined;
    const file = path.join(this.#builds, `${id}.json`);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      return { problem: { file, message: describeReadError(error, 'a file') } };
    }
    return parseRecord(text, file, id);
  }

  #report(problem: StoreProblem): void {
    if (this.#reported.has(problem.file)) return;
    this.#reported.add(problem.file);
    this.#onProblem?.(problem);
  }
}

function describeReadError(error: unknown, expected: string): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EISDIR') return 'a directory, where a record file belongs';
  if (code === 'ENOTDIR') return `not ${expected}`;
  if (code === 'EACCES' || code === 'EPERM') return 'cannot be read (permission denied)';
  return `cannot be read (${code ?? String(error)})`;
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
