import { createHash } from 'node:crypto';
import pLimit from 'p-limit';
import type {
  BuildQuery,
  BuildStore,
  ObjectStorage,
  PipelineBuildRecord,
  StoreProblem,
} from '../contracts.js';
import { invalidInput, ZenbuildError } from '../errors.js';
import { ambiguousPrefix, ID_PATTERN, parseRecord } from './record-schema.js';

/** Everything zenbuild keeps in an artifact store lives under this prefix. */
export const STORE_PREFIX = 'zenbuild';

export interface ObjectBuildStoreOptions {
  /** Told once per entry that is not a readable record; the entry is then skipped. */
  onProblem?(problem: StoreProblem): void;
}

/**
 * Build records in an object store a team shares (the stack's artifact store):
 *
 *     zenbuild/builds/<id>.json                      one object per record
 *     zenbuild/index/<pipeline, stack, checksum>/<id>.json   the same record, found by what reuse asks
 *
 * Every object is created only if absent, so a record is never overwritten and concurrent writers never
 * lose one. The reuse lookup lists one index prefix and reads its newest entry: two requests however
 * many records the store holds. The index key is a hash, so any pipeline or stack name makes a key.
 */
export class ObjectBuildStore implements BuildStore {
  readonly #reported = new Set<string>();

  constructor(
    readonly objects: ObjectStorage,
    readonly options: ObjectBuildStoreOptions = {},
  ) {}

  get location(): string {
    return `${this.objects.location.replace(/\/$/, '')}/${STORE_PREFIX}`;
  }

  async prepare(): Promise<void> {
    // Nothing to create: the first record creates its objects. Access is checked by the lookup.
  }

  async save(record: PipelineBuildRecord): Promise<void> {
    if (!ID_PATTERN.test(record.id)) throw invalidInput(`Invalid build id \`${record.id}\`.`);
    const body = Buffer.from(`${JSON.stringify(record, null, 2)}\n`);
    // Record first, index second: an index entry never points at a record that is not there.
    if (!(await this.objects.create(recordKey(record.id), body)))
      throw new ZenbuildError(
        'INVALID_INPUT',
        `The build store ${this.location} already holds a record ${record.id}; records are never overwritten.`,
      );
    await this.objects.create(indexKey(record, record.id), body);
  }

  async find(query: BuildQuery): Promise<PipelineBuildRecord[]> {
    const keys = (await this.objects.list(`${indexPrefix(query)}/`)).sort().reverse();
    const out: PipelineBuildRecord[] = [];
    // Newest first, and only as far as needed: the newest readable entry is usually the one reuse takes.
    for (const key of keys) {
      const id = idOf(key);
      if (!id) continue;
      const record = await this.#read(key, id);
      // An index entry is only a pointer: the record decides (a damaged one must not make a false hit).
      if (
        record &&
        record.checksum === query.checksum &&
        record.pipeline === query.pipeline &&
        record.stack === query.stack
      )
        out.push(record);
      if (out.length > 0) break;
    }
    return out;
  }

  async list(filter: { pipeline?: string } = {}): Promise<PipelineBuildRecord[]> {
    const ids = await this.#ids('');
    const limit = pLimit(16);
    const records = await Promise.all(ids.map((id) => limit(() => this.#read(recordKey(id), id))));
    return records.filter(
      (r): r is PipelineBuildRecord =>
        r !== undefined && (!filter.pipeline || r.pipeline === filter.pipeline),
    );
  }

  async get(idOrPrefix: string): Promise<PipelineBuildRecord | undefined> {
    if (ID_PATTERN.test(idOrPrefix)) return this.#read(recordKey(idOrPrefix), idOrPrefix);
    if (!/^[0-9TZ-][0-9a-fTZ-]*$/.test(idOrPrefix)) return undefined;
    // A prefix of an id is a prefix of its key: the store lists only the records that start with it.
    const ids = await this.#ids(idOrPrefix);
    if (ids.length > 1) throw invalidInput(ambiguousPrefix(idOrPrefix, ids));
    const [id] = ids;
    return id ? this.#read(recordKey(id), id) : undefined;
  }

  async delete(id: string): Promise<void> {
    if (!ID_PATTERN.test(id)) throw invalidInput(`Invalid build id \`${id}\`.`);
    const record = await this.#read(recordKey(id), id);
    if (record) await this.objects.remove(indexKey(record, id));
    await this.objects.remove(recordKey(id));
  }

  /** Record ids whose key starts with `prefix`, newest first. */
  async #ids(prefix: string): Promise<string[]> {
    const keys = await this.objects.list(`${STORE_PREFIX}/builds/${prefix}`);
    return keys
      .map(idOf)
      .filter((id): id is string => id !== undefined)
      .sort()
      .reverse();
  }

  async #read(key: string, id: string): Promise<PipelineBuildRecord | undefined> {
    const body = await this.objects.read(key);
    if (!body) return undefined;
    const parsed = parseRecord(
      body.toString('utf8'),
      `${this.objects.location.replace(/\/$/, '')}/${key}`,
      id,
    );
    if ('problem' in parsed) {
      this.#report(parsed.problem);
      return undefined;
    }
    return parsed.record;
  }

  #report(problem: StoreProblem): void {
    if (this.#reported.has(problem.file)) return;
    this.#reported.add(problem.file);
    this.options.onProblem?.(problem);
  }
}

/** Where a record's object is, under the storage's root. */
export function recordKey(id: string): string {
  return `${STORE_PREFIX}/builds/${id}.json`;
}

function indexPrefix(query: BuildQuery): string {
  const key = createHash('sha256')
    .update(JSON.stringify([query.pipeline, query.stack, query.checksum]))
    .digest('hex')
    .slice(0, 40);
  return `${STORE_PREFIX}/index/${key}`;
}

/** Where a record's index entry is: found by what reuse asks. */
export function indexKey(query: BuildQuery, id: string): string {
  return `${indexPrefix(query)}/${id}.json`;
}

/** The record id a key ends with, or undefined for anything else found under the prefix. */
function idOf(key: string): string | undefined {
  const name = key.slice(key.lastIndexOf('/') + 1);
  if (!name.endsWith('.json')) return undefined;
  const id = name.slice(0, -'.json'.length);
  return ID_PATTERN.test(id) ? id : undefined;
}
