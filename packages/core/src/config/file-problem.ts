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
    case 'EACCES':
    case 'EPERM':
      return 'cannot be read (permission denied)';
    case 'ELOOP':
      return 'cannot be read (a symlink loop)';
    default:
      return `cannot be read (${code ?? String(error)})`;
  }
}
