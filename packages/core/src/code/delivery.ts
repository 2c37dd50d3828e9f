import type { CodeLocation } from '../contracts.js';
import type { BuildPlan, CodeSource } from '../plan/plan.js';
import type { CheckoutState } from './checkout.js';

/** Where a pipeline's steps get their code, in one place for `plan`, `build` and the record. */
export interface CodeDelivery {
  /** Every source the images use (most pipelines use one). */
  sources: CodeSource[];
  /** The repository commit, when some image downloads from it. */
  repository?: { name: string; url: string; commit: string; subdirectory: string };
  /** Why the repository is not used, when the stack declares one but it cannot serve. */
  repositoryUnusable?: string;
  /** The checkout's files with local changes, when they keep the repository from serving. */
  changes?: string[];
  /** The images whose settings allow no way to get their code. */
  nowhere: string[];
}

export function codeDelivery(plan: BuildPlan, checkout: CheckoutState | undefined): CodeDelivery {
  const images = Object.values(plan.images);
  const sources = [...new Set(images.map((i) => i.codeFrom))].sort();
  const delivery: CodeDelivery = {
    sources,
    nowhere: images.filter((i) => i.codeFrom === 'none').map((i) => i.key),
  };
  if (checkout?.repository && checkout.commit && !checkout.unusable && sources.includes('repository')) {
    delivery.repository = {
      name: checkout.repository.name,
      url: checkout.repository.url,
      commit: checkout.commit,
      subdirectory: checkout.subdirectory ?? '.',
    };
  }
  if (checkout?.unusable && checkout.unusable !== 'the stack declares no code repository') {
    delivery.repositoryUnusable = checkout.unusable;
    if (checkout.changes.length > 0) delivery.changes = checkout.changes;
  }
  return delivery;
}

/** The delivery in a sentence, for `plan` and `build`. */
export function describeDelivery(delivery: CodeDelivery, store: string): string {
  const parts: string[] = [];
  if (delivery.repository) {
    const r = delivery.repository;
    parts.push(
      `from the code repository ${r.name} (${r.url}) at commit ${r.commit.slice(0, 12)}${r.subdirectory === '.' ? '' : `, folder ${r.subdirectory}`}`,
    );
  }
  if (delivery.sources.includes('artifact-store'))
    parts.push(
      `from a code archive in the artifact store (${store}/code_uploads/)${delivery.repositoryUnusable ? `, not the code repository: ${delivery.repositoryUnusable}` : ''}`,
    );
  if (delivery.sources.includes('image')) parts.push('inside the image');
  if (delivery.nowhere.length > 0) parts.push(`nowhere for ${delivery.nowhere.join(', ')}`);
  return `Code: ${parts.join('; ') || 'not needed'}.`;
}

/** The record's `code` from what was delivered. */
export function recordedCode(
  delivery: CodeDelivery,
  archivePath: string | undefined,
): CodeLocation | undefined {
  if (delivery.repository) {
    const { name, url, commit, subdirectory } = delivery.repository;
    return { repository: name, url, commit, subdirectory };
  }
  return archivePath ? { path: archivePath } : undefined;
}
