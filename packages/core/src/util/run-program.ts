import type { ExecFileOptions } from 'node:child_process';

/**
 * Runs a program to completion and returns its stdout; on failure the error carries `stdout` and
 * `stderr`, as `util.promisify(execFile)` gives them (callers quote them in their messages). `input` is
 * written to its stdin. child_process is loaded on first use: most runs start no program, and it costs
 * about 3 ms to load.
 */
export async function runProgram(
  file: string,
  args: string[],
  options: ExecFileOptions & { input?: string } = {},
): Promise<string> {
  const { execFile } = await import('node:child_process');
  const { input, ...execOptions } = options;
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { ...execOptions, encoding: 'utf8' }, (error, stdout, stderr) =>
      error ? reject(Object.assign(error, { stdout, stderr })) : resolve(stdout),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}
