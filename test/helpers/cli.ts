import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, realpathSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The built CLI, as package.json's `bin` names it. */
export const cliBin = path.join(repoRoot, 'apps/cli/dist/bundle/bin.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A fresh zenbuild home, so tests never touch the real user's data dir. */
export const tempHome = () => mkdtempSync(path.join(tmpdir(), 'zenbuild-home-'));

/**
 * Runs the built `zenbuild` binary as a user would: a separate process, a clean environment plus
 * `env` (with a throwaway ZENBUILD_HOME unless given), the repository root as working directory.
 * `timeoutMs` is for builds that fetch from outside (the Debian mirror), which take their network's time.
 */
export function zenbuild(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  cwd = repoRoot,
  timeoutMs = 20_000,
): CliResult {
  const result = spawnSync(process.execPath, [cliBin, ...args], {
    cwd,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ZENBUILD_HOME: tempHome(), ...env },
    timeout: timeoutMs,
  });
  if (result.error) throw result.error;
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

export const fixture = (...parts: string[]) => path.join(repoRoot, 'test/fixtures', ...parts);
export const example = (...parts: string[]) => path.join(repoRoot, 'examples', ...parts);

/**
 * `zenbuild` as a child process that does not block this one, for tests whose fakes (cloud services)
 * answer from this process. `onStderr` sees the error output as it arrives (to send Ctrl-C at a point).
 */
export function zenbuildAsync(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  cwd = repoRoot,
  onStderr?: (stderr: string, child: ChildProcessWithoutNullStreams) => void,
): Promise<CliResult> {
  const child = spawn(process.execPath, [cliBin, ...args], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ZENBUILD_HOME: tempHome(), ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    onStderr?.(stderr, child);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

let bareInstall: string | undefined;

/**
 * The CLI as a user has it who installed only `zenbuild` (npm's layout: the CLI and core in a project's
 * node_modules, no backend package), for the messages that ask for a backend. This repository links
 * every backend at its root, so its own CLI always finds them.
 */
export function zenbuildWithoutBackends(args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  if (!bareInstall) {
    const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-bare-install-'));
    const modules = path.join(dir, 'node_modules');
    for (const [name, from] of [
      ['zenbuild', 'apps/cli'],
      ['@zenbuild/core', 'packages/core'],
    ] as const) {
      const to = path.join(modules, name);
      mkdirSync(to, { recursive: true });
      copyFileSync(path.join(repoRoot, from, 'package.json'), path.join(to, 'package.json'));
      cpSync(path.join(repoRoot, from, 'dist/bundle'), path.join(to, 'dist/bundle'), { recursive: true });
    }
    // core's one external library; where it really lives does not matter.
    symlinkSync(
      realpathSync(path.join(repoRoot, 'packages/core/node_modules/dockerfile-ast')),
      path.join(modules, 'dockerfile-ast'),
    );
    bareInstall = dir;
  }
  const result = spawnSync(
    process.execPath,
    [path.join(bareInstall, 'node_modules/zenbuild/dist/bundle/bin.js'), ...args],
    {
      cwd: bareInstall,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ZENBUILD_HOME: tempHome(), ...env },
      timeout: 20_000,
    },
  );
  if (result.error) throw result.error;
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
