import type { BuildStore, StoreProblem } from '@zenbuild/core';
import { describe } from 'vitest';
import { storeConcurrencyCases } from './concurrency.js';
import { storeDamagedCases } from './damaged.js';
import { storeRecordsCases } from './records.js';

/** A fresh, empty store, the problems it reported, and ways to put raw entries where it reads. */
export interface StoreHarness {
  store: BuildStore;
  /** What the store told its `onProblem`. */
  problems: StoreProblem[];
  /** Puts raw bytes where the store keeps the record of `id`: a damaged or foreign entry. */
  putRecord(id: string, text: string): Promise<void>;
  /** Puts raw bytes as the index entry of `id` for a lookup, for a store with index entries of its own. */
  putIndexEntry?(
    query: { pipeline: string; stack: string; checksum: string },
    id: string,
    text: string,
  ): Promise<void>;
}

export interface StoreCapabilities {
  /**
   * The store refuses to create an entry that exists (S3's If-None-Match, GCS's ifGenerationMatch, a
   * hard link). False for a service that ignores the condition (s3rver): the refusal case is left out.
   */
  conditionalCreate?: boolean;
}

export interface StoreSuite extends StoreCapabilities {
  name: string;
  harness: () => Promise<StoreHarness>;
}

export const STORE_FEATURES = {
  records: storeRecordsCases,
  concurrency: storeConcurrencyCases,
  damaged: storeDamagedCases,
} as const;

/** What every BuildStore must do, against the real service or its fake (the BuildStore contract). */
export function buildStoreConformance(
  name: string,
  harness: () => Promise<StoreHarness>,
  capabilities: StoreCapabilities = {},
): void {
  const suite: StoreSuite = { name, harness, conditionalCreate: capabilities.conditionalCreate ?? true };
  describe(`BuildStore conformance: ${name}`, () => {
    for (const [feature, cases] of Object.entries(STORE_FEATURES)) describe(feature, () => cases(suite));
  });
}
