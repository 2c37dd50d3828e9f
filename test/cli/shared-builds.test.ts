import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RegistryClient } from '@zenbuild/core/backend';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { type FakeAws, localBuildEnv, startFakeAws } from '../fakes/aws/index.js';
import { type FakeGcp, startFakeGcp } from '../fakes/gcp/index.js';
import { repoRoot, tempHome, zenbuild, zenbuildAsync } from '../helpers/cli.js';
import { fakeAwsStack, fakeGcpStack, remoteProject } from '../helpers/remote-project.js';
import { pushToRegistry } from '../infra/dockerd.js';

// Two machines are two ZENBUILD_HOMEs in separate processes: they share only the stack.

const { open } = inject('registries');
const BUCKET = 'team-artifacts';
let aws: FakeAws;
let gcp: FakeGcp;
let remoteBase: string;

beforeAll(async () => {
  remoteBase = pushToRegistry(inject('baseImage'), open);
  aws = await startFakeAws({ projects: ['team-builds'], buckets: [BUCKET], buildEnv: localBuildEnv() });
  gcp = await startFakeGcp({ projects: ['demo-project'], buckets: [BUCKET], buildEnv: localBuildEnv() });
});
afterAll(async () => {
  await aws?.close();
  await gcp?.close();
});

function awsProject() {
  return remoteProject({
    flavor: 'aws',
    parentImage: remoteBase,
    // Something to build: a parent used as it is has nothing to reuse.
    docker: { environment: { TEAM: 'shared' } },
    ...fakeAwsStack(aws, {
      name: 'team-aws',
      codeBuildProject: 'team-builds',
      bucket: BUCKET,
      registry: open,
    }),
  });
}

function gcpProject() {
  return remoteProject({
    flavor: 'gcp',
    parentImage: remoteBase,
    docker: { environment: { TEAM: 'shared' } },
    ...fakeGcpStack(gcp, { name: 'team-gcp', project: 'demo-project', bucket: BUCKET, registry: open }),
  });
}

/** Runs `work` while the S3 fake answers the calls `deny` picks with 403 AccessDenied. */
async function whileS3Denies<T>(
  deny: NonNullable<FakeAws['s3']['deny']>,
  work: () => Promise<T>,
): Promise<T> {
  aws.s3.deny = deny;
  try {
    return await work();
  } finally {
    aws.s3.deny = undefined;
  }
}

const awsContextUploads = () =>
  aws.s3.calls.filter(
    (c) => ['PutObject', 'UploadPart'].includes(c.operation) && c.key.includes('code-build-contexts'),
  ).length;
const gcsContextUploads = () =>
  gcp.gcs.calls.filter((c) => c.operation.endsWith('Upload') && c.object.includes('cloud-build-contexts'))
    .length;

describe("builds a team shares through the stack's artifact store", () => {
  it('aws: the second machine reuses the first one’s build: no CodeBuild build, no context upload', async () => {
    const project = awsProject();
    const first = await project.build(['--json']);
    expect(first.stderr).not.toMatch(/^zenbuild:/m);
    expect(first.code).toBe(0);
    const built = JSON.parse(first.stdout);
    expect(built).toMatchObject({ reused: false, schemaVersion: 1, createdBy: { host: expect.any(String) } });
    // The record is in the bucket, under the layout the docs give.
    expect(aws.s3.object(BUCKET, `zenml/zenbuild/builds/${built.id}.json`)).toBeDefined();
    // So is the code the steps download at run time, as ZenML names its code archives.
    expect(built.code.path).toMatch(
      new RegExp(`^s3://${BUCKET}/zenml/code_uploads/[0-9a-f]{40}\\.tar\\.gz$`),
    );
    expect(aws.s3.object(BUCKET, built.code.path.slice(`s3://${BUCKET}/`.length))).toBeDefined();

    const builds = aws.codebuild.builds.size;
    const uploads = awsContextUploads();
    // The build store's calls: lists and reads under zenbuild/ (the code archive's check is apart).
    const storeCalls = () =>
      ['ListObjectsV2', 'GetObject'].map(
        (op) => aws.s3.calls.filter((c) => c.operation === op && c.key.includes('zenbuild/')).length,
      );
    const before = storeCalls();
    const second = await project.buildAs(tempHome(), ['--json']);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ id: built.id, reused: true, code: built.code });
    expect(second.stderr).toContain(`Reusing build ${built.id}`);
    expect(second.stderr).toContain(`The code is already in ${built.code.path}; nothing uploaded.`);
    expect(aws.codebuild.builds.size).toBe(builds);
    expect(awsContextUploads()).toBe(uploads);
    // The reuse lookup: one list of one index prefix, one read of one record, not every record.
    expect(storeCalls().map((n, i) => n - (before[i] ?? 0))).toEqual([1, 1]);
  }, 180_000);

  it('gcp: the second machine reuses the first one’s build: no Cloud Build build, no context upload', async () => {
    const project = gcpProject();
    const first = await project.build(['--json']);
    expect(first.code).toBe(0);
    const built = JSON.parse(first.stdout);
    const builds = gcp.cloudbuild.builds.size;
    const uploads = gcsContextUploads();
    const lists = () =>
      gcp.gcs.calls.filter((c) => c.operation === 'List' && c.object.includes('zenbuild/')).length;
    const downloads = () =>
      gcp.gcs.calls.filter((c) => c.operation === 'Download' && c.object.includes('zenbuild/')).length;
    const [listsBefore, downloadsBefore] = [lists(), downloads()];
    const second = await project.buildAs(tempHome(), ['--json']);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ id: built.id, reused: true });
    expect(built.code.path).toMatch(
      new RegExp(`^gs://${BUCKET}/zenml/code_uploads/[0-9a-f]{40}\\.tar\\.gz$`),
    );
    expect(second.stderr).toContain(`The code is already in ${built.code.path}; nothing uploaded.`);
    expect(gcp.cloudbuild.builds.size).toBe(builds);
    expect(gcsContextUploads()).toBe(uploads);
    // The reuse lookup: one list of one index prefix, one read of one record.
    expect([lists() - listsBefore, downloads() - downloadsBefore]).toEqual([1, 1]);
  }, 180_000);

  it('shows and lists the shared builds from any machine with the stack, and says who made them', async () => {
    const project = awsProject();
    const first = await project.build(['--json'], undefined);
    const built = JSON.parse(first.stdout);
    const stack = path.join(project.dir, 'stack.yaml');
    const other = { ZENBUILD_HOME: tempHome() };
    const list = await project.run(
      ['builds', 'list', '--stack', stack, '--pipeline', project.name, '--json'],
      other,
    );
    expect(list.code).toBe(0);
    const listed = JSON.parse(list.stdout);
    expect(listed.store).toBe(`s3://${BUCKET}/zenml/zenbuild`);
    expect(listed.builds.map((b: { id: string }) => b.id)).toEqual([built.id]);
    const show = await project.run(['builds', 'show', built.id.slice(0, 24), '--stack', stack], {
      ...other,
      GITHUB_ACTIONS: 'true',
    });
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`Build ${built.id}`);
    expect(show.stdout).toMatch(/by \S+@\S+ \(zenbuild 0\.1\.0\)/);
    // This machine's own store has none of them.
    const local = await project.run(
      ['builds', 'list', '--stack', stack, '--store', 'local', '--json'],
      other,
    );
    expect(JSON.parse(local.stdout).builds).toEqual([]);
  }, 180_000);

  it('records who built in CI: the GitHub Actions run', async () => {
    const project = awsProject();
    const ci = {
      GITHUB_ACTIONS: 'true',
      GITHUB_RUN_ID: '8812',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: 'team/ml',
    };
    const first = await project.buildAs(tempHome(), ['--json'], ci);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout).createdBy.ci).toEqual({
      provider: 'github-actions',
      runId: '8812',
      url: 'https://github.com/team/ml/actions/runs/8812',
    });
  }, 180_000);

  it('keeps a record the shared store refuses on this machine, says so, and builds sync uploads it', async () => {
    const project = awsProject();
    const first = await whileS3Denies(
      (operation, key) => operation === 'PutObject' && key.includes('/zenbuild/'),
      () => project.build(['--json']),
    );
    expect(first.code).toBe(0);
    const built = JSON.parse(first.stdout);
    expect(first.stderr).toMatch(
      new RegExp(
        `Could not save build ${built.id} in s3://${BUCKET}/zenml/zenbuild \\(.*Access denied.*\\); it is kept in this machine's store`,
      ),
    );
    expect(aws.s3.object(BUCKET, `zenml/zenbuild/builds/${built.id}.json`)).toBeUndefined();
    const stack = path.join(project.dir, 'stack.yaml');
    const sync = await project.run(['builds', 'sync', '--stack', stack]);
    expect(sync.code).toBe(0);
    expect(sync.stdout).toMatch(/^Uploaded 1 build\(s\) of stack `team-aws`/);
    expect(aws.s3.object(BUCKET, `zenml/zenbuild/builds/${built.id}.json`)).toBeDefined();
    // Once there, another machine reuses it.
    const second = await project.buildAs(tempHome(), ['--json']);
    expect(JSON.parse(second.stdout)).toMatchObject({ id: built.id, reused: true });
    // A second sync has nothing to do.
    expect((await project.run(['builds', 'sync', '--stack', stack])).stdout).toMatch(
      /^Uploaded 0 build\(s\).*1 already there/,
    );
  }, 180_000);

  it('builds without reuse, and says why, when the shared store cannot be read', async () => {
    const project = awsProject();
    const result = await whileS3Denies(
      (operation, key) => operation === 'ListObjectsV2' && key.includes('zenbuild/'),
      () => project.build(['--json']),
    );
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(
      /Could not read the build store s3:\/\/team-artifacts\/zenml\/zenbuild \(.*\); building without reuse/,
    );
    expect(JSON.parse(result.stdout).reused).toBe(false);
  }, 180_000);

  it('skips a garbage record in the bucket with one warning that names it', async () => {
    const project = awsProject();
    await project.build(['--json']);
    aws.s3.buckets.get(BUCKET)?.set('zenml/zenbuild/builds/20260101T000000000Z-0badf00d.json', {
      body: Buffer.from('not a record'),
      etag: '"x"',
    });
    try {
      const list = await project.run(['builds', 'list', '--stack', path.join(project.dir, 'stack.yaml')]);
      expect(list.code).toBe(0);
      expect(list.stderr.match(/^warning:/gm)).toHaveLength(1);
      expect(list.stderr).toContain(
        `s3://${BUCKET}/zenml/zenbuild/builds/20260101T000000000Z-0badf00d.json: not JSON`,
      );
      expect(list.stdout).toContain(project.name);
    } finally {
      aws.s3.buckets.get(BUCKET)?.delete('zenml/zenbuild/builds/20260101T000000000Z-0badf00d.json');
    }
  }, 180_000);

  it('names the store when its credentials are missing', async () => {
    const project = awsProject();
    const stack = path.join(project.dir, 'stack.yaml');
    const noCredentials = {
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
      AWS_CONFIG_FILE: '/nonexistent/config',
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    const list = await project.run(['builds', 'list', '--stack', stack], noCredentials);
    expect(list.code).toBe(3);
    expect(list.stderr).toMatch(
      /^zenbuild: The artifact store s3:\/\/team-artifacts\/zenml, where the stack keeps its build records and code archives: No AWS credentials were found/m,
    );
  }, 60_000);
});

describe('a local stack whose artifact store is a shared directory', () => {
  const shared = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-shared-project-'));
    const store = path.join(dir, 'team-store');
    mkdirSync(store);
    writeFileSync(path.join(dir, 'app.py'), 'print("shared")\n');
    const name = `shared${Math.random().toString(36).slice(2, 8)}`;
    writeFileSync(
      path.join(dir, 'pipeline.yaml'),
      JSON.stringify({
        name,
        source_root: '.',
        settings: {
          docker: {
            parent_image: inject('baseImage'),
            install_stack_requirements: false,
            environment: { TEAM: 'shared' },
          },
        },
      }),
    );
    writeFileSync(
      path.join(dir, 'stack.yaml'),
      stringify({
        name: 'team-local',
        components: {
          image_builder: { flavor: 'local' },
          container_registry: { flavor: 'default', uri: open },
          artifact_store: { flavor: 'local', path: store },
        },
      }),
    );
    const args = (extra: string[]) => [
      'build',
      path.join(dir, 'pipeline.yaml'),
      '--stack',
      path.join(dir, 'stack.yaml'),
      ...extra,
    ];
    return { dir, store, name, args };
  };

  it('the second machine reuses the first one’s build with --store stack (and ZENBUILD_STORE)', async () => {
    const { args, store } = shared();
    const first = zenbuild(args(['--json', '--store', 'stack']), {}, repoRoot, 120_000);
    expect(first.stderr).not.toMatch(/^zenbuild:/m);
    expect(first.code).toBe(0);
    const built = JSON.parse(first.stdout);
    expect(readdirSync(path.join(store, 'zenbuild', 'builds'))).toEqual([`${built.id}.json`]);
    const second = zenbuild(args(['--json']), { ZENBUILD_STORE: 'stack' }, repoRoot, 120_000);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ id: built.id, reused: true });
    expect(second.stderr).not.toMatch(/Building \d+ image/);
    // Without it, a local artifact store keeps builds on each machine: a third machine builds.
    const third = zenbuild(args(['--json']), {}, repoRoot, 120_000);
    expect(JSON.parse(third.stdout).reused).toBe(false);
  }, 240_000);

  it('20 concurrent builds across two homes lose no record', async () => {
    const { args, store } = shared();
    const homes = [tempHome(), tempHome()];
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        zenbuildAsync(args(['--json', '--store', 'stack', '--no-reuse', '--progress', 'plain']), {
          ZENBUILD_HOME: homes[i % 2],
        }),
      ),
    );
    for (const result of results) expect(result.stderr).not.toMatch(/^zenbuild:/m);
    expect(results.map((r) => r.code)).toEqual(Array(20).fill(0));
    const ids = results.map((r) => JSON.parse(r.stdout).id as string).sort();
    expect(new Set(ids).size).toBe(20);
    const list = zenbuild([
      'builds',
      'list',
      '--stack',
      path.join(path.dirname(store), 'stack.yaml'),
      '--store',
      'stack',
      '--json',
    ]);
    expect(list.code).toBe(0);
    expect(
      JSON.parse(list.stdout)
        .builds.map((b: { id: string }) => b.id)
        .sort(),
    ).toEqual(ids);
  }, 300_000);

  it('builds prune lists what it would delete, deletes only with --yes, and leaves the images', async () => {
    const { args, dir } = shared();
    const ids: string[] = [];
    let image = '';
    for (let i = 0; i < 3; i++) {
      const result = zenbuild(args(['--json', '--store', 'stack', '--no-reuse']), {}, repoRoot, 120_000);
      expect(result.code).toBe(0);
      const record = JSON.parse(result.stdout);
      ids.push(record.id);
      image = record.images.orchestrator.image;
    }
    const stack = path.join(dir, 'stack.yaml');
    const dry = zenbuild(['builds', 'prune', '--keep', '1', '--stack', stack, '--store', 'stack']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^Would delete 2 build record\(s\) .* \(records only, never images\)/);
    expect(dry.stdout).toContain(ids[0]);
    expect(dry.stdout).toContain(ids[1]);
    expect(dry.stdout).not.toContain(ids[2]);
    const listed = () =>
      JSON.parse(
        zenbuild(['builds', 'list', '--stack', stack, '--store', 'stack', '--json']).stdout,
      ).builds.map((b: { id: string }) => b.id);
    expect(listed()).toHaveLength(3);
    const wet = zenbuild(['builds', 'prune', '--keep', '1', '--stack', stack, '--store', 'stack', '--yes']);
    expect(wet.code).toBe(0);
    expect(wet.stdout).toMatch(/^Deleted 2 build record\(s\)/);
    expect(listed()).toEqual([ids[2]]);
    // The images stay in the registry.
    const client = new RegistryClient({ env: { DOCKER_CONFIG: '/nonexistent-zenbuild' } });
    expect(await client.exists(image)).toBe(true);
    // Nothing is older than a day yet.
    expect(
      zenbuild(['builds', 'prune', '--older-than', '1d', '--stack', stack, '--store', 'stack']).stdout,
    ).toMatch(/^Nothing to prune in /);
    // Neither or both of --older-than and --keep is a usage error.
    expect(zenbuild(['builds', 'prune', '--stack', stack]).code).toBe(2);
    expect(zenbuild(['builds', 'prune', '--older-than', 'soon']).code).toBe(2);
  }, 300_000);
});
