import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { invalidInput } from '../errors.js';
import { writeFileAtomic } from '../home/atomic-write.js';
import * as z from '../util/zod.js';

/** One image of a pipeline build, the fields docs/context-and-reuse.md describes. */
export interface BuildRecordImage {
  /** `repository@sha256:...` when pushed, the local name otherwise, or the parent image used as it is. */
  image: string;
  digest: string | null;
  tag: string | null;
  dockerfile: string | null;
  requirements: string | null;
  settingsChecksum: string;
  containsCode: boolean;
  /** The build context hash of each build behind this image. */
  contextHashes?: Record<string, string>;
  /** The parent image's digest the checksum covered, when it was resolved. */
  parentDigest?: string | null;
  durationMs?: number;
}

export interface PipelineBuildRecord {
  id: string;
  pipeline: string;
  stack: string;
  /** The stack's registry URI; reuse only matches builds pushed to the same registry. */
  registry: string | null;
  checksum: string;
  /** True when an existing build was used and nothing was built. */
  reused: boolean;
  createdAt: string;
  durationMs: number;
  containsCode: boolean;
  images: Record<string, BuildRecordImage>;
  zenbuildVersion: string;
}

const ID_PATTERN = /^\d{8}T\d{6}\d{3}Z-[0-9a-f]{8}$/;

const recordImageSchema = z.looseObject({
  image: z.string(),
  digest: z.union([z.string(), z.null()]),
  tag: z.union([z.string(), z.null()]),
  dockerfile: z.union([z.string(), z.null()]),
  requirements: z.union([z.string(), z.null()]),
  settingsChecksum: z.string(),
  containsCode: z.boolean(),
  contextHashes: z.record(z.string(), z.string()).optional(),
  parentDigest: z.union([z.string(), z.null()]).optional(),
  durationMs: z.number().optional(),
});

/** What a record must hold for zenbuild to read it; fields a newer zenbuild adds are let through. */
const recordSchema = z.looseObject({
  id: z.string().regex(ID_PATTERN),
  pipeline: z.string(),
  stack: z.string(),
  registry: z.union([z.string(), z.null()]),
  checksum: z.string(),
  reused: z.boolean(),
  createdAt: z.string(),
  durationMs: z.number(),
  containsCode: z.boolean(),
  images: z.record(z.string(), recordImageSchema),
  zenbuildVersion: z.string(),
});

/** A file in the store that is not a record zenbuild can read, and why. */
export interface StoreProblem {
  file: string;
  message: string;
}

/** A damaged file as a warning says it: which file, what is wrong, and what to do. */
export function describeStoreProblem(problem: StoreProblem): string {
  return `${problem.file}: ${problem.message}; skipped (\`zenbuild builds check --fix\` moves it aside)`;
}

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
 * concurrent processes never rewrite a shared file and never lose a record.
 */
export class BuildStore {
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
    // Record first, index second: an index entry never points at a record that is not there.
    await writeFileAtomic(
      path.join(this.#builds, `${record.id}.json`),
      `${JSON.stringify(record, null, 2)}\n`,
    );
    const dir = path.join(this.#index, record.checksum);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, record.id), '');
  }

  /** A record by id; undefined when there is none, or when it is damaged (reported to `onProblem`). */
  async get(id: string): Promise<PipelineBuildRecord | undefined> {
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
    return reads.flatMap((r) => (r && 'problem' in r ? [r.problem] : []));
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

  async #read(id: string): Promise<{ record: PipelineBuildRecord } | { problem: StoreProblem } | undefined> {
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
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      return {
        problem: { file, message: text.trim() ? `not JSON (${(error as Error).message})` : 'empty' },
      };
    }
    const parsed = recordSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? issue.path.join('.') : 'the record';
      return { problem: { file, message: `not a build record: ${where}: ${issue?.message ?? 'invalid'}` } };
    }
    if (parsed.data.id !== id) {
      return { problem: { file, message: `holds the record of build ${parsed.data.id}, not ${id}` } };
    }
    return { record: parsed.data as PipelineBuildRecord };
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
