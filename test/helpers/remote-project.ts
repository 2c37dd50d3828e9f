import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { FAKE_AWS_ENV, type FakeAws } from '../fakes/aws/index.js';
import { FAKE_GCP_ENV, type FakeGcp } from '../fakes/gcp/index.js';
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

export interface FakeStackOptions {
  /** The stack's name. */
  name: string;
  /** The bucket of the artifact store (and the build contexts), which the fake must have. */
  bucket: string;
  /** The container registry's URI: where builds push. */
  registry: string;
}

/** A stack that builds in the CodeBuild fake (project `codeBuildProject`), with its environment. */
export function fakeAwsStack(
  aws: FakeAws,
  options: FakeStackOptions & { codeBuildProject: string },
): Pick<RemoteProjectOptions, 'stack' | 'env'> {
  return {
    stack: {
      name: options.name,
      components: {
        image_builder: {
          flavor: 'aws',
          config: { code_build_project: options.codeBuildProject, endpoint: '${AWS_TEST_ENDPOINT}' },
        },
        container_registry: { flavor: 'default', uri: options.registry },
        artifact_store: { flavor: 's3', path: `s3://${options.bucket}/zenml` },
      },
    },
    env: { ...FAKE_AWS_ENV, AWS_TEST_ENDPOINT: aws.endpoint },
  };
}

/** A stack that builds in the Cloud Build fake (GCP project `project`), with its environment. */
export function fakeGcpStack(
  gcp: FakeGcp,
  options: FakeStackOptions & { project: string; builder?: Record<string, unknown> },
): Pick<RemoteProjectOptions, 'stack' | 'env'> {
  return {
    stack: {
      name: options.name,
      components: {
        image_builder: {
          flavor: 'gcp',
          config: {
            project: options.project,
            api_endpoint: '${GCP_TEST_ENDPOINT}',
            storage_endpoint: '${GCP_TEST_ENDPOINT}',
            ...options.builder,
          },
        },
        container_registry: { flavor: 'gcp', uri: options.registry },
        artifact_store: { flavor: 'gcs', path: `gs://${options.bucket}/zenml` },
      },
    },
    env: { ...FAKE_GCP_ENV, GCP_TEST_ENDPOINT: gcp.endpoint },
  };
}
