import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type FakeAws, localBuildEnv, startFakeAws } from '../fakes/aws/index.js';
import { zenbuild } from '../helpers/cli.js';
import { expectPushedDigest } from '../helpers/pushed.js';
import { fakeAwsStack, remoteProject } from '../helpers/remote-project.js';
import { pushToRegistry, runInImage } from '../infra/dockerd.js';

const { open } = inject('registries');
const BUCKET = 'zenbuild-artifacts';
let aws: FakeAws;
// CodeBuild has none of this machine's images: the parent comes from a registry.
let baseImage: string;

beforeAll(async () => {
  baseImage = pushToRegistry(inject('baseImage'), open);
  aws = await startFakeAws({ projects: ['zenbuild-builds'], buckets: [BUCKET], buildEnv: localBuildEnv() });
});
afterAll(async () => aws?.close());

/** A project whose stack builds in the fake and pushes to the local registry. */
function setup(docker: Record<string, unknown>) {
  return remoteProject({
    flavor: 'aws',
    parentImage: baseImage,
    docker,
    ...fakeAwsStack(aws, {
      name: 'aws-e2e',
      codeBuildProject: 'zenbuild-builds',
      bucket: BUCKET,
      registry: open,
    }),
  });
}

// Context uploads: the build records the stack's store now keeps in the same bucket are not uploads.
const uploads = () =>
  aws.s3.calls.filter(
    (c) =>
      (c.operation === 'PutObject' || c.operation === 'UploadPart') && c.key.includes('code-build-contexts'),
  ).length;

describe('zenbuild build with an aws stack (CodeBuild, S3 and CloudWatch Logs fakes)', () => {
  it('builds remotely, pushes, returns the registry digest, streams logs, then reuses and uploads nothing', async () => {
    // Code goes into the image, rather than being downloaded from the S3 artifact store at run time.
    const { build, name } = setup({
      environment: { WHERE: 'codebuild' },
      allow_download_from_artifact_store: false,
    });
    const first = await build(['--json', '--progress', 'plain']);
    expect(first.stderr).not.toMatch(/^(zenbuild|warning):/m);
    expect(first.code).toBe(0);
    const record = JSON.parse(first.stdout);
    expect(record).toMatchObject({ pipeline: name, stack: 'aws-e2e', reused: false, containsCode: true });
    const image = record.images.orchestrator;
    await expectPushedDigest(image, open);
    expect(runInImage(image.image, ['sh', '-c', 'echo $WHERE; cat /app/src/train.py'])).toMatch(
      /^codebuild\nprint\("trained remotely/,
    );
    // The CodeBuild log came through as it ran: docker's step lines and the container's phase lines.
    expect(first.stderr).toMatch(/\[orchestrator\] Step 1\/\d+ : FROM/);
    expect(first.stderr).toContain('[orchestrator] [Container]');
    expect(first.stderr).not.toContain('NodeVersionSupportWarning');

    const uploadsBefore = uploads();
    const second = await build(['--json']);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ id: record.id, reused: true });
    const forced = await build(['--json', '--no-reuse']);
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout).reused).toBe(false);
    // The forced build ran in CodeBuild again, from the context already in S3.
    expect(uploads()).toBe(uploadsBefore);
    expect(aws.codebuild.builds.size).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it('a failing RUN exits 1 with the failing phase and its log, and records nothing', async () => {
    const { build, home } = setup({ local_project_install_command: 'echo installing-remotely && exit 3' });
    const result = await build();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('installing-remotely');
    expect(result.stderr).toMatch(/The CodeBuild build zenbuild-builds:\S+ FAILED: phase BUILD FAILED/);
    expect(zenbuild(['builds', 'list', '--json'], { ZENBUILD_HOME: home }).stdout).toContain('"builds": []');
  }, 120_000);

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)(
    '%s stops the remote build (StopBuild) and exits %i',
    async (signal, exitCode) => {
      const { build } = setup({ local_project_install_command: 'echo waiting-remotely && sleep 30' });
      const stopsBefore = aws.codebuild.calls.filter((c) => c.target.endsWith('.StopBuild')).length;
      const result = await build(['--progress', 'plain'], (stderr, child) => {
        if (stderr.includes('waiting-remotely') && !child.killed) child.kill(signal);
      });
      expect(result.code).toBe(exitCode);
      const stops = aws.codebuild.calls.filter((c) => c.target.endsWith('.StopBuild'));
      expect(stops.length).toBe(stopsBefore + 1);
      await aws.codebuild.settled();
      expect(aws.codebuild.builds.get(String(stops.at(-1)?.body.id))?.buildStatus).toBe('STOPPED');
    },
    120_000,
  );
});
