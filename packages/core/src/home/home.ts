import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { errnoReason } from '../config/file-problem.js';
import { invalidInput } from '../errors.js';

/** `$ZENBUILD_HOME`, else `$XDG_DATA_HOME/zenbuild`, else `~/.local/share/zenbuild`. */
export function zenbuildHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ZENBUILD_HOME) return path.resolve(env.ZENBUILD_HOME);
  const dataHome = env.XDG_DATA_HOME
    ? path.resolve(env.XDG_DATA_HOME)
    : path.join(os.homedir(), '.local', 'share');
  return path.join(dataHome, 'zenbuild');
}

/**
 * zenbuild's home, made when it is missing, or an input error that says which setting chose it and what
 * is wrong (a file in the way, no permission, a read-only file system) before anything is built. Records
 * and caches are written there; without this check the first write failed as an internal error.
 */
export function ensureZenbuildHome(env: NodeJS.ProcessEnv = process.env): string {
  const home = zenbuildHome(env);
  const chosenBy = env.ZENBUILD_HOME
    ? `ZENBUILD_HOME=${env.ZENBUILD_HOME}`
    : env.XDG_DATA_HOME
      ? `zenbuild's home ${home} (from XDG_DATA_HOME)`
      : `zenbuild's home ${home}`;
  const fail = (problem: string) =>
    invalidInput(
      `${chosenBy}: ${problem}. zenbuild keeps its build records and caches there; point ZENBUILD_HOME at a directory it can write.`,
      { path: 'ZENBUILD_HOME' },
    );
  // Made one level at a time: mkdir({ recursive: true }) loops forever where the kernel answers ENOENT
  // for a directory whose parent exists (under /proc or /sys).
  const missing: string[] = [];
  let existing = home;
  for (;;) {
    let stats: ReturnType<typeof statOrMissing>;
    try {
      stats = statOrMissing(existing);
    } catch (error) {
      throw fail(`${existing} cannot be looked at (${why(error)})`);
    }
    if (stats) {
      if (!stats.isDirectory()) throw fail(`${existing} is not a directory`);
      break;
    }
    missing.unshift(existing);
    const parent = path.dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  for (const dir of missing) {
    try {
      mkdirSync(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
        throw fail(`${dir} cannot be made (${why(error)})`);
    }
  }
  try {
    accessSync(home, constants.W_OK);
  } catch (error) {
    throw fail(`${home} is not writable (${why(error)})`);
  }
  return home;
}

/** Stats, or undefined for a path that is not there (also when a file stands where a parent should be). */
function statOrMissing(file: string) {
  try {
    return statSync(file, { throwIfNoEntry: false });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw error;
  }
}

/** What stopped a directory being made or written. */
function why(error: unknown): string {
  // procfs and sysfs answer ENOENT to mkdir even though the parent exists.
  return (error as NodeJS.ErrnoException).code === 'ENOENT'
    ? 'the file system does not allow it'
    : errnoReason(error);
}
