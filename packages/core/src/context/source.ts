import { createHash } from 'node:crypto';
import type { BuildContextSource, ContextFile } from '../contracts.js';
import { archiveContext, fileChunks } from './archive.js';
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
    files: () => contextFiles(entries),
  };
}

/** The entries in a BuildKit session's order, with the directories a generated file implies added. */
function contextFiles(entries: ContextEntry[]): ContextFile[] {
  const files: ContextFile[] = [];
  const directories = new Set(entries.filter((e) => e.type === 'directory').map((e) => e.path));
  for (const entry of entries) {
    for (let dir = parentOf(entry.path); dir !== '' && !directories.has(dir); dir = parentOf(dir)) {
      directories.add(dir);
      files.push({ path: dir, type: 'directory', mode: 0o755, size: 0, digest: '', read: nothing });
    }
    files.push({
      path: entry.path,
      type: entry.type,
      mode: entry.mode,
      size: entry.type === 'file' ? entry.size : 0,
      ...(entry.linkTarget !== undefined ? { linkTarget: entry.linkTarget } : {}),
      digest: entry.type === 'file' ? digestOf(entry) : '',
      read: entry.type === 'file' ? () => chunksOf(entry) : nothing,
    });
  }
  return files.sort((a, b) => comparePaths(a.path, b.path));
}

/** Depth-first order with names in byte order: `a`, `a/b`, `a-b` (fsutil's walk and validator). */
function comparePaths(a: string, b: string): number {
  const left = a.split('/');
  const right = b.split('/');
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const order = Buffer.compare(Buffer.from(left[i] as string), Buffer.from(right[i] as string));
    if (order !== 0) return order;
  }
  return left.length - right.length;
}

function parentOf(file: string): string {
  const slash = file.lastIndexOf('/');
  return slash < 0 ? '' : file.slice(0, slash);
}

function digestOf(entry: ContextEntry): string {
  if (entry.digest) return entry.digest;
  const source = entry.source;
  const hash = createHash('sha256');
  if (!source) return hash.digest('hex');
  if (source.kind === 'generated') return hash.update(source.content).digest('hex');
  // Not hashed (yet): what identifies the version without reading it.
  const { size, mtimeMs, ctimeMs, ino } = source.fingerprint;
  return hash.update(`${size}:${mtimeMs}:${ctimeMs}:${ino}`).digest('hex');
}

async function* chunksOf(entry: ContextEntry): AsyncGenerator<Buffer> {
  if (!entry.source) return;
  yield* fileChunks(entry);
}

async function* nothing(): AsyncGenerator<Buffer> {}
