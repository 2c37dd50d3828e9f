import { DigestCache } from '../context/digest-cache.js';
import { hashContext } from '../context/hash.js';
import { type WalkedContext, walkContext } from '../context/walk.js';
import type { BuildPlan } from '../plan/plan.js';

export interface PreparedContext {
  walked: WalkedContext;
  hash: string;
}

/**
 * Walks and hashes the context of every build in the plan, once each. File digests are cached per
 * context root under `<home>/cache`, so re-planning an unchanged tree reads no file again.
 */
export async function prepareContexts(
  plan: BuildPlan,
  options: { home?: string } = {},
): Promise<Record<string, PreparedContext>> {
  const caches = new Map<string, DigestCache>();
  const cacheFor = async (root: string | undefined) => {
    if (!root || !options.home) return undefined;
    let cache = caches.get(root);
    if (!cache) {
      cache = await DigestCache.open(options.home, root);
      caches.set(root, cache);
    }
    return cache;
  };
  const out: Record<string, PreparedContext> = {};
  for (const build of plan.builds) {
    // zenbuild's home (digest caches, records) must never become part of a context it hashes.
    const walked = await walkContext({
      ...build.context,
      ...(options.home ? { exclude: [homeExclusion(options.home)] } : {}),
    });
    const cache = await cacheFor(walked.root);
    const { hash } = await hashContext(walked.entries, cache ? { cache } : {});
    out[build.id] = { walked, hash };
  }
  await Promise.all([...caches.values()].map((cache) => cache.save()));
  return out;
}

/** Each build's context hash, by build id. */
export function contextHashesOf(contexts: Record<string, PreparedContext>): Record<string, string> {
  return Object.fromEntries(Object.entries(contexts).map(([id, c]) => [id, c.hash]));
}

/** zenbuild's home, when it lies inside a source tree: its caches and records change with every run. */
export function homeExclusion(home: string): { path: string; reason: string } {
  return { path: home, reason: "zenbuild's home: its caches and build records are never part of a context" };
}
