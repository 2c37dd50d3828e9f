import { Writable } from 'node:stream';
import { Io, main } from 'zenbuild';
import type { CliResult } from './cli.js';

function collector(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

/**
 * The CLI's `main` in this process, with its own streams and environment: thousands of runs in the
 * time of a few child processes, for the bad-input corpus and the property tests. The exit code is
 * the one `bin.js` would exit with.
 */
export async function zenbuildInProcess(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  const stdout = collector();
  const stderr = collector();
  const code = await main(args, new Io(stdout.stream, stderr.stream, env));
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}
