import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { archiveContext } from '../context/archive.js';
import { walkContext } from '../context/walk.js';
import type { ObjectStorage } from '../contracts.js';
import { invalidInput } from '../errors.js';
import { runProgram } from '../util/run-program.js';

/** Where ZenML keeps code archives in an artifact store, and so where its runs look for them. */
export const CODE_UPLOADS = 'code_uploads';

/**
 * The files of a code archive, as ZenML's CodeArchive chooses them: inside a git checkout, what
 * `git ls-files --cached --others --modified --exclude-standard` lists (tracked files and untracked ones
 * the ignore files do not exclude); elsewhere every file. Files inside a `.zen` folder stay out (ZenML
 * rewrites them on every run). Paths are relative to the source root, sorted.
 */
export async function codeArchiveFiles(
  sourceRoot: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string[]> {
  const root = path.resolve(sourceRoot);
  let files: string[];
  try {
    const top = (await runProgram('git', ['rev-parse', '--show-toplevel'], { cwd: root, env })).trim();
    const listed = await runProgram(
      'git',
      ['ls-files', '-z', '--cached', '--others', '--modified', '--exclude-standard', '--', root],
      { cwd: top, env, maxBuffer: 256 << 20 },
    );
    const candidates = [...new Set(listed.split('\0').filter(Boolean))].map((f) =>
      path.relative(root, path.join(top, f)),
    );
    // A deleted tracked file is still listed by --cached: only what exists goes in.
    files = [];
    for (const file of candidates) {
      if (file.startsWith('..')) continue;
      const info = await stat(path.join(root, file)).catch(() => undefined);
      if (info?.isFile()) files.push(file);
    }
  } catch {
    files = await walkFiles(root);
  }
  const kept = files
    .map((f) => f.split(path.sep).join('/'))
    .filter((f) => !f.split('/').slice(0, -1).includes('.zen'))
    .sort();
  if (kept.length === 0) {
    throw invalidInput(
      `The code archive of ${root} would hold no file: every file in the source root is ignored (a .gitignore?).`,
    );
  }
  return kept;
}

async function walkFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) out.push(path.relative(root, path.join(entry.parentPath, entry.name)));
  }
  return out;
}

export interface CodeArchive {
  /** `<sha1 of the archive>.tar.gz`: the same code gives the same name. */
  name: string;
  bytes: Buffer;
  files: number;
}

/**
 * The source root as a deterministic tar.gz (core's archive: fixed times and owners, normalised modes),
 * so the same code always has the same hash and is uploaded once.
 */
export async function makeCodeArchive(
  sourceRoot: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CodeArchive> {
  const files = await codeArchiveFiles(sourceRoot, env);
  const contents = await Promise.all(
    files.map(async (file) => ({ path: file, content: await readFile(path.join(sourceRoot, file)) })),
  );
  const walked = await walkContext({ files: contents });
  const bytes = await buffer(archiveContext(walked.entries, 'tar.gz'));
  return { name: `${createHash('sha1').update(bytes).digest('hex')}.tar.gz`, bytes, files: files.length };
}

/**
 * Uploads the archive to `<artifact store>/code_uploads/<hash>.tar.gz` unless it is there: a second
 * build of the same code uploads nothing. Returns the archive's full path and whether it was uploaded.
 */
export async function uploadCodeArchive(
  archive: CodeArchive,
  objects: ObjectStorage,
): Promise<{ path: string; uploaded: boolean }> {
  const key = `${CODE_UPLOADS}/${archive.name}`;
  const where = `${objects.location.replace(/\/$/, '')}/${key}`;
  // A list of the one key, not a create that sends the bytes only to be refused.
  if ((await objects.list(key)).includes(key)) return { path: where, uploaded: false };
  const created = await objects.create(key, archive.bytes);
  return { path: where, uploaded: created };
}
