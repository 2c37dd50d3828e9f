import { statSync } from 'node:fs';

/**
 * Why a file that input names cannot be used, in the words an error message needs ("does not exist",
 * "is a directory, not a file"), or undefined when it is a readable regular file. Symlinks are followed,
 * as Docker and pip follow them.
 */
export function fileProblem(absolute: string): string | undefined {
  try {
    const stats = statSync(absolute);
    if (stats.isDirectory()) return 'is a directory, not a file';
    if (!stats.isFile()) return 'is not a regular file';
    return undefined;
  } catch (error) {
    return readProblem(error);
  }
}

/** The same for a directory that input names: "does not exist", "is a file, not a directory". */
export function directoryProblem(absolute: string): string | undefined {
  try {
    return statSync(absolute).isDirectory() ? undefined : 'is a file, not a directory';
  } catch (error) {
    return readProblem(error); // a stat never fails with EISDIR, the one file-only wording
  }
}

/** The same words for an error thrown while reading a file. */
export function readProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'does not exist';
    case 'ENOTDIR':
      return 'does not exist (a parent of it is a file)';
    case 'EISDIR':
      return 'is a directory, not a file';
    default:
      return `cannot be read (${errnoReason(error)})`;
  }
}

/** Why a file system call failed, in a few words: `permission denied`, `a symlink loop`, or the code. */
export function errnoReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ELOOP':
      return 'a symlink loop';
    case 'EROFS':
      return 'a read-only file system';
    default:
      return code ?? String(error);
  }
}
