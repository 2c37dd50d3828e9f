import { execFile } from 'node:child_process';
import { lazyImport } from '@zenbuild/core/backend';

export interface QueryResult {
  failed: boolean;
  exitCode: number | undefined;
  /** Set when podman could not be started at all, e.g. `ENOENT`. */
  code?: string;
  stdout: string;
  stderr: string;
}

/**
 * A short podman query (version, image inspect, image exists, tag) through node's own `execFile`.
 * The long-running, streamed commands (build, push, login) use execa; loading it costs about 0.12 s,
 * which a run that only asks questions (a reuse hit) should not pay.
 */
export function podmanQuery(
  binary: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 30_000,
): Promise<QueryResult> {
  return new Promise((resolve) => {
    execFile(binary, args, { env, timeout: timeoutMs, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (!error) return resolve({ failed: false, exitCode: 0, stdout, stderr });
      const code = (error as NodeJS.ErrnoException).code;
      resolve({
        failed: true,
        exitCode: typeof code === 'number' ? code : undefined,
        ...(typeof code === 'string' ? { code } : {}),
        stdout,
        stderr:
          stderr || (error.killed ? `podman ${args[0]} gave no answer within ${timeoutMs / 1000} s` : ''),
      });
    });
  });
}

/** execa, loaded on the first build, push or login. */
export const loadExeca = lazyImport(() => import('execa'));
