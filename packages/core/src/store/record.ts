import type { BuildPlan } from '../plan/plan.js';
import type { PlanChecksums } from '../reuse/checksums.js';
import type { Stack } from '../stack/stack.js';
import { type BuildRecordImage, newBuildId, type PipelineBuildRecord } from './build-store.js';
import { recordOrigin } from './origin.js';
import { RECORD_SCHEMA_VERSION } from './record-schema.js';

export const ZENBUILD_VERSION = '0.1.0';

export interface BuiltImageResult {
  image: string;
  digest?: string;
  durationMs?: number;
}

export interface RecordInput {
  plan: BuildPlan;
  stack: Stack;
  checksums: PlanChecksums;
  contextHashes: Record<string, string>;
  parentDigests: Record<string, string | null>;
  /** What each built image key became; images that were not built use their plan's image. */
  built: Record<string, BuiltImageResult>;
  durationMs: number;
  reused?: boolean;
  now?: Date;
  /** Whose environment says who builds (CI variables); default: this process's. */
  env?: NodeJS.ProcessEnv;
}

/** The pipeline-build record of a plan once its images exist: the fields docs/context-and-reuse.md describes. */
export function createBuildRecord(input: RecordInput): PipelineBuildRecord {
  const { plan } = input;
  const images: Record<string, BuildRecordImage> = {};
  for (const [key, planned] of Object.entries(plan.images)) {
    const source = planned.sameAs ?? key;
    const result = input.built[source];
    const originalPlan = plan.images[source] ?? planned;
    const parent = plan.builds.find(
      (b) => b.id === originalPlan.builds[originalPlan.builds.length - 1],
    )?.parentImage;
    images[key] = {
      image: result?.image ?? planned.image,
      digest: result?.digest ?? null,
      tag: planned.tag ?? null,
      dockerfile: planned.dockerfile ?? null,
      requirements: planned.requirements ?? null,
      settingsChecksum: planned.settingsChecksum,
      containsCode: planned.containsCode,
      contextHashes: Object.fromEntries(originalPlan.builds.map((id) => [id, input.contextHashes[id] ?? ''])),
      ...(parent ? { parentDigest: input.parentDigests[parent] ?? null } : {}),
      ...(result?.durationMs !== undefined ? { durationMs: result.durationMs } : {}),
    };
  }
  const now = input.now ?? new Date();
  return {
    schemaVersion: RECORD_SCHEMA_VERSION,
    id: newBuildId(now),
    pipeline: plan.pipeline,
    stack: input.stack.name,
    registry: input.stack.containerRegistry?.uri ?? null,
    checksum: input.checksums.checksum,
    reused: input.reused ?? false,
    createdAt: now.toISOString(),
    durationMs: input.durationMs,
    containsCode: Object.values(images).some((i) => i.containsCode),
    images,
    zenbuildVersion: ZENBUILD_VERSION,
    createdBy: recordOrigin(input.env),
  };
}
