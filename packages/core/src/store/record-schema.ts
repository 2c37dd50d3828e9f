import type { PipelineBuildRecord, StoreProblem } from '../contracts.js';
import * as z from '../util/zod.js';

/** The record format this zenbuild writes and reads; a record of a higher one is skipped with a notice. */
export const RECORD_SCHEMA_VERSION = 1;

/** `20261123T154210123Z-a1b2c3d4`: sortable by time, unique across processes and machines. */
export const ID_PATTERN = /^\d{8}T\d{6}\d{3}Z-[0-9a-f]{8}$/;

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
  schemaVersion: z.number().optional(),
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

export type ParsedRecord = { record: PipelineBuildRecord } | { problem: StoreProblem };

/**
 * A stored record, checked: JSON, the fields zenbuild reads, the id it is stored under, and a format
 * this zenbuild knows. Anything else is a problem naming `where` (a file, an object URL).
 */
export function parseRecord(text: string, where: string, expectedId?: string): ParsedRecord {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return {
      problem: { file: where, message: text.trim() ? `not JSON (${(error as Error).message})` : 'empty' },
    };
  }
  // The format first: a newer record may not have the fields this zenbuild expects, and is not damaged.
  const version = (json as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (typeof version === 'number' && version > RECORD_SCHEMA_VERSION) {
    const by = (json as { zenbuildVersion?: unknown }).zenbuildVersion;
    return {
      problem: {
        file: where,
        kind: 'newer',
        message: `written by ${typeof by === 'string' ? `zenbuild ${by}` : 'a newer zenbuild'} in record format ${version}, newer than this zenbuild reads (${RECORD_SCHEMA_VERSION})`,
      },
    };
  }
  const parsed = recordSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue?.path.length ? issue.path.join('.') : 'the record';
    return { problem: { file: where, message: `not a build record: ${at}: ${issue?.message ?? 'invalid'}` } };
  }
  if (expectedId !== undefined && parsed.data.id !== expectedId) {
    return {
      problem: { file: where, message: `holds the record of build ${parsed.data.id}, not ${expectedId}` },
    };
  }
  return { record: parsed.data as PipelineBuildRecord };
}

/** A problem as a warning says it: which entry, what is wrong, and what to do. */
export function describeStoreProblem(problem: StoreProblem): string {
  if (problem.kind === 'newer')
    return `${problem.file}: ${problem.message}; skipped (upgrade zenbuild to use it)`;
  return `${problem.file}: ${problem.message}; skipped (\`zenbuild builds check --fix\` moves it aside)`;
}

/** The one error for an id prefix that fits more than one record. */
export function ambiguousPrefix(prefix: string, ids: string[]): string {
  return `The build id prefix \`${prefix}\` matches ${ids.length} builds (${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', ...' : ''}); give more of the id.`;
}
