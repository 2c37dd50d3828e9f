import type { BuildContextSource } from '../contracts.js';
import { archiveContext } from './archive.js';
import type { ContextEntry } from './walk.js';

/** The context a backend consumes: the hash of exactly these entries, and a fresh archive of them each time. */
export function buildContextSource(entries: ContextEntry[], hash: string): BuildContextSource {
  return {
    hash,
    tar: () => archiveContext(entries, 'tar'),
    archive: (format) => archiveContext(entries, format),
  };
}
