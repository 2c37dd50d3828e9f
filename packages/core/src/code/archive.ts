import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
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
  /** Folders never archived: zenbuild's home and a local artifact store inside the source root. */
  exclude: string[] = [],
): Promise<string[]> {
  const root = path.resolve(sourceRoot);
  const outside = exclude
    .map((dir) => path.relative(root, path.resolve(dir)).split(path.sep).join('/'))
    .filter((rel) => rel && !rel.startsWith('..') && !path.isAbsolute(rel));
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
    const inside = candidates.filter((file) => !file.startsWith('..'));
    const kinds = await Promise.all(inside.map((file) => stat(path.join(root, file)).catch(() => undefined)));
    files = inside.filter((_, i) => kinds[i]?.isFile());
  } catch {
    files = await walkFiles(root);
  }
  const kept = files
    .map((f) => f.split(path.sep).join('/'))
    .filter((f) => !f.split('/').slice(0, -1).includes('.zen'))
    .filter((f) => !outside.some((dir) => f === dir || f.startsWith(`${dir}/`)))
    .sort();
  if (kept.length === 0) {
    throw invalidInput(
      `The code archive of ${root} would hold no file: every file in the source root is ignored (a .gitignore?).`,
    );
  }
  return kept;
}

/** Every regular file under `root`; a folder that vanishes meanwhile is skipped. */
async function walkFiles(root: string, relative = ''): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(path.join(root, relative), { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const out: string[] = [];
  for (const entry of entries) {
    const rel = path.join(relative, entry.name);
    if (entry.isDirectory()) out.push(...(await walkFiles(root, rel)));
    else if (entry.isFile()) out.push(rel);
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
  exclude: string[] = [],
): Promise<CodeArchive> {
  const files = await codeArchiveFiles(sourceRoot, env, exclude);
  const read = await Promise.all(
    files.map(async (file) => {
      try {
        return { path: file, content: await readFile(path.join(sourceRoot, file)) };
      } catch (error) {
        // A file removed since it was listed (an editor's swap file) is not part of the code.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    }),
  );
  const contents = read.filter((f) => f !== undefined);
  const walked = await walkContext({ files: contents });
  const bytes = await buffer(archiveContext(walked.entries, 'tar.gz'));
  return { name: `${createHash('sha1').update(bytes).digest('hex')}.tar.gz`, bytes, files: contents.length };
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
  // A list of the one key first, not a create that sends the bytes only to be refused. A store that
  // will not list (a policy that allows writes only) still gets its create-if-absent.
  const listed = await objects.list(key).catch(() => undefined);
  if (listed?.includes(key)) return { path: where, uploaded: false };
  const created = await objects.create(key, archive.bytes);
  return { path: where, uploaded: created };
}
