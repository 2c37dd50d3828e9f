import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { repoRoot, tempHome, zenbuildAsync } from './cli.js';

/** This package has the backends installed, as a user's project would. */
const project = path.join(repoRoot, 'test');

export interface RemoteProjectOptions {
  /** Used as the pipeline-name prefix and the temp-dir name. */
  flavor: 'aws' | 'gcp';
  parentImage: string;
  /** The stack definition (environment placeholders like `${ENDPOINT}` are filled from `env`). */
  stack: Record<string, unknown>;
  /** Environment of every `zenbuild` run: credentials, endpoints. */
  env: NodeJS.ProcessEnv;
  docker: Record<string, unknown>;
}

/**
 * A project with code, a pipeline config and a stack that builds remotely (with a cloud builder
 * fake), and a `build` that runs the CLI without blocking this process, where the fakes answer.
 */
export function remoteProject(options: RemoteProjectOptions) {
  const dir = mkdtempSync(path.join(tmpdir(), `zenbuild-${options.flavor}-`));
  mkdirSync(path.join(dir, 'src'));
  writeFileSync(path.join(dir, '.zen'), '');
  writeFileSync(path.join(dir, 'src/train.py'), `print("trained remotely ${Math.random()}")\n`);
  const name = `${options.flavor}${Math.random().toString(36).slice(2, 8)}`;
  writeFileSync(
    path.join(dir, 'pipeline.yaml'),
    JSON.stringify({
      name,
      // The busybox parent has no pip: leave out the cloud integration's requirements.
      settings: {
        docker: { parent_image: options.parentImage, install_stack_requirements: false, ...options.docker },
      },
    }),
  );
  writeFileSync(path.join(dir, 'stack.yaml'), stringify(options.stack));
  const home = tempHome();
  const env = { ...options.env, ZENBUILD_HOME: home };
  const args = (extra: string[]) => [
    'build',
    path.join(dir, 'pipeline.yaml'),
    '--stack',
    path.join(dir, 'stack.yaml'),
    ...extra,
  ];
  return {
    name,
    home,
    dir,
    build: (extra: string[] = [], onStderr?: Parameters<typeof zenbuildAsync>[3]) =>
      zenbuildAsync(args(extra), env, project, onStderr),
    /** The same build on another machine: its own ZENBUILD_HOME, the same project and stack. */
    buildAs: (otherHome: string, extra: string[] = [], moreEnv: NodeJS.ProcessEnv = {}) =>
      zenbuildAsync(args(extra), { ...env, ...moreEnv, ZENBUILD_HOME: otherHome }, project),
    /** Any zenbuild command with this project's environment (credentials, endpoints) and home. */
    run: (command: string[], moreEnv: NodeJS.ProcessEnv = {}) =>
      zenbuildAsync(command, { ...env, ...moreEnv }, project),
  };
}
