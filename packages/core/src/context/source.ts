import type { BuildContextSource } from '../contracts.js';
import { archiveContext } from './archive.js';
import type { ContextEntry } from './walk.js';
import { writeContextTo } from './write-to.js';

/**
 * The context a backend consumes: the hash of exactly these entries, and a fresh archive of them (or a
 * copy on disk) each time.
 */
export function buildContextSource(entries: ContextEntry[], hash: string): BuildContextSource {
  return {
    hash,
    size: entries.reduce((sum, entry) => sum + (entry.type === 'file' ? entry.size : 0), 0),
    tar: (options) => archiveContext(entries, 'tar', options),
    archive: (format) => archiveContext(entries, format),
    writeTo: (dir, options) => writeContextTo(entries, dir, options),
  };
}
