import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { invalidInput } from '../errors.js';
import { writeFileAtomic } from '../home/atomic-write.js';

/** One image of a pipeline build, as ARCHITECTURE §5 fixes the fields. */
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

  constructor(readonly home: string) {
    this.#builds = path.join(home, 'builds');
    this.#index = path.join(home, 'index', 'checksum');
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

  async get(id: string): Promise<PipelineBuildRecord | undefined> {
    if (!ID_PATTERN.test(id)) return undefined;
    try {
      return JSON.parse(await readFile(path.join(this.#builds, `${id}.json`), 'utf8')) as PipelineBuildRecord;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** Records, newest first, optionally of one pipeline. */
  async list(filter: { pipeline?: string } = {}): Promise<PipelineBuildRecord[]> {
    const ids = (await readdirOrEmpty(this.#builds))
      .filter((name) => name.endsWith('.json'))
      .map((name) => name.slice(0, -'.json'.length))
      .filter((id) => ID_PATTERN.test(id))
      .sort()
      .reverse();
    const records = await Promise.all(ids.map((id) => this.get(id)));
    return records.filter(
      (r): r is PipelineBuildRecord =>
        r !== undefined && (!filter.pipeline || r.pipeline === filter.pipeline),
    );
  }

  /** Records with a given build checksum, newest first. */
  async findByChecksum(checksum: string): Promise<PipelineBuildRecord[]> {
    if (!/^[0-9a-f]{64}$/.test(checksum)) return [];
    const ids = (await readdirOrEmpty(path.join(this.#index, checksum))).filter((id) => ID_PATTERN.test(id));
    const records = await Promise.all(
      ids
        .sort()
        .reverse()
        .map((id) => this.get(id)),
    );
    return records.filter((r): r is PipelineBuildRecord => r !== undefined);
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
