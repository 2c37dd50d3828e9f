import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type FakeGcp, startFakeGcp } from '../fakes/gcp/index.js';
import { localBuildEnv } from '../fakes/local-build-env.js';
import { zenbuild } from '../helpers/cli.js';
import { expectPushedDigest } from '../helpers/pushed.js';
import { fakeGcpStack, remoteProject } from '../helpers/remote-project.js';
import { inspectLabel, pushToRegistry, runInImage } from '../infra/dockerd.js';

const { open } = inject('registries');
const BUCKET = 'zenbuild-artifacts';
let gcp: FakeGcp;
// Cloud Build has none of this machine's images: the parent comes from a registry.
let baseImage: string;

beforeAll(async () => {
  baseImage = pushToRegistry(inject('baseImage'), open);
  gcp = await startFakeGcp({ projects: ['demo-project'], buckets: [BUCKET], buildEnv: localBuildEnv() });
});
afterAll(async () => gcp?.close());

/** A project whose stack builds in the fake and pushes to the local registry. */
function setup(docker: Record<string, unknown>, builder: Record<string, unknown> = {}) {
  return remoteProject({
    flavor: 'gcp',
    parentImage: baseImage,
    docker,
    ...fakeGcpStack(gcp, {
      name: 'gcp-e2e',
      project: 'demo-project',
      bucket: BUCKET,
      registry: open,
      builder,
    }),
  });
}

const uploads = () =>
  gcp.gcs.calls.filter((c) => c.operation.endsWith('Upload') && c.object.includes('cloud-build-contexts'))
    .length;

describe('zenbuild build with a gcp stack (Cloud Build and GCS fakes)', () => {
  it('builds remotely, pushes, returns the registry digest, streams logs, then reuses and uploads nothing', async () => {
    // Code goes into the image, rather than being downloaded from the GCS artifact store at run time.
    const { build, name } = setup({
      environment: { WHERE: 'cloudbuild' },
      allow_download_from_artifact_store: false,
    });
    const first = await build(['--json', '--progress', 'plain']);
    // The only warning: a loopback registry does not look like Artifact Registry.
    expect(first.stderr.match(/^(zenbuild|warning):.*$/gm)).toEqual([
      expect.stringMatching(
        /^warning: components\.container_registry\.uri: .* does not look like a gcp registry/,
      ),
    ]);
    expect(first.code).toBe(0);
    const record = JSON.parse(first.stdout);
    expect(record).toMatchObject({ pipeline: name, stack: 'gcp-e2e', reused: false, containsCode: true });
    const image = record.images.orchestrator;
    await expectPushedDigest(image, open);
    expect(runInImage(image.image, ['sh', '-c', 'echo $WHERE; cat /app/src/train.py'])).toMatch(
      /^cloudbuild\nprint\("trained remotely/,
    );
    // The Cloud Build log came through from the logs bucket: docker's step lines, Cloud Build's stages.
    expect(first.stderr).toMatch(/\[orchestrator\] Step #0: Step 1\/\d+ : FROM/);
    expect(first.stderr).toContain('[orchestrator] FETCHSOURCE');
    expect(first.stderr).not.toMatch(/MetadataLookupWarning|EBADENGINE/);

    const uploadsBefore = uploads();
    const second = await build(['--json']);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ id: record.id, reused: true });
    const forced = await build(['--json', '--no-reuse']);
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout).reused).toBe(false);
    // The forced build ran in Cloud Build again, from the context already in GCS.
    expect(uploads()).toBe(uploadsBefore);
    expect(gcp.cloudbuild.builds.size).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it('a failing RUN exits 1 with the failing phase and its log, and records nothing', async () => {
    const { build, home } = setup({ local_project_install_command: 'echo installing-remotely && exit 3' });
    const result = await build();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('installing-remotely');
    expect(result.stderr).toMatch(
      /The Cloud Build build \S+ ended FAILURE: step 0 \(gcr\.io\/cloud-builders\/docker\) FAILURE/,
    );
    expect(zenbuild(['builds', 'list', '--json'], { ZENBUILD_HOME: home }).stdout).toContain('"builds": []');
  }, 120_000);

  it('a $ in a label or build arg arrives byte for byte, not as a Cloud Build substitution', async () => {
    // Cloud Build reads $VAR, ${VAR} and $$ in step args (substitute-variable-values in its docs):
    // unescaped, `a$b` fails the build (MUST_MATCH) and $PROJECT_ID becomes the project.
    // zenbuild's own $${c} is the literal ${c} (its ${VAR} substitution runs first).
    const values = { V: '$PROJECT_ID', W: 'a$b ${c} $$d' };
    const { build, dir } = setup({
      dockerfile: 'Dockerfile',
      build_context_root: '.',
      parent_image_build_config: {
        build_options: { buildargs: { ...values, W: 'a$b $${c} $$d' }, labels: { note: 'a$b' } },
      },
    });
    writeFileSync(
      path.join(dir, 'Dockerfile'),
      `FROM ${baseImage}\nARG V\nARG W\nRUN echo -n "$V|$W" > /values\n`,
    );
    const result = await build(['--json']);
    expect(result.stderr).not.toMatch(/zenbuild:/);
    expect(result.code).toBe(0);
    const image = JSON.parse(result.stdout).images.orchestrator.image;
    expect(runInImage(image, ['cat', '/values'])).toBe(`${values.V}|${values.W}`);
    expect(inspectLabel(image, 'note')).toBe('a$b');
  }, 120_000);

  it('a regional build that fails says which step, the status, the last log lines and the log URL', async () => {
    const { build, home } = setup(
      { local_project_install_command: 'echo failing-in-region && exit 4' },
      { location: 'europe-west1' },
    );
    const result = await build();
    expect(result.code).toBe(1);
    expect(result.stderr).not.toMatch(/internal error|This is a bug/);
    expect(result.stderr).toMatch(
      /The Cloud Build build \S+ ended FAILURE: step 0 \(gcr\.io\/cloud-builders\/docker\) FAILURE: Build step failure/,
    );
    expect(result.stderr).toMatch(/Last log lines:\n(.*\n)*.*failing-in-region/);
    expect(result.stderr).toMatch(/Logs: https:\/\/console\.cloud\.google\.com\/cloud-build\/builds\//);
    // The build ran in its region, and was looked up under its regional name, which is where it lives.
    const create = gcp.cloudbuild.calls
      .filter((c) => c.method === 'POST' && c.path.endsWith('/builds'))
      .at(-1);
    expect(create?.path).toBe('/v1/projects/demo-project/locations/europe-west1/builds');
    const lookups = gcp.cloudbuild.calls.filter(
      (c) => c.method === 'GET' && /\/builds\/[^/:]+$/.test(c.path),
    );
    expect(lookups.at(-1)?.path).toMatch(/^\/v1\/projects\/demo-project\/locations\/europe-west1\/builds\//);
    expect(zenbuild(['builds', 'list', '--json'], { ZENBUILD_HOME: home }).stdout).toContain('"builds": []');
  }, 120_000);

  it('Ctrl-C while the context is uploading exits 130 at once and starts no build', async () => {
    const { build } = setup({ environment: { HELD: '1' } });
    const builds = () =>
      gcp.cloudbuild.calls.filter((c) => c.method === 'POST' && c.path.endsWith('/builds')).length;
    const before = builds();
    gcp.gcs.holdUploads = true;
    try {
      let sentAt = 0;
      let running: { kill(signal: NodeJS.Signals): boolean; killed: boolean } | undefined;
      // Ctrl-C once the fake holds the upload (polled: the upload itself prints nothing more).
      const poll = setInterval(() => {
        if (running && !running.killed && gcp.gcs.calls.some((c) => c.operation === 'HeldUpload')) {
          sentAt = Date.now();
          running.kill('SIGINT');
        }
      }, 50);
      const result = await build(['--progress', 'plain'], (_stderr, child) => {
        running = child;
      }).finally(() => clearInterval(poll));
      expect(result.code).toBe(130);
      // The storage client leaves an aborted upload's request open; zenbuild must not wait for it.
      expect(Date.now() - sentAt).toBeLessThan(5_000);
      expect(builds()).toBe(before);
    } finally {
      gcp.gcs.holdUploads = false;
    }
  }, 120_000);

  it('Ctrl-C cancels the remote build and exits 130', async () => {
    const { build } = setup({ local_project_install_command: 'echo waiting-remotely && sleep 30' });
    const cancels = () => gcp.cloudbuild.calls.filter((c) => c.path.endsWith(':cancel'));
    const before = cancels().length;
    const result = await build(['--progress', 'plain'], (stderr, child) => {
      if (stderr.includes('waiting-remotely') && !child.killed) child.kill('SIGINT');
    });
    expect(result.code).toBe(130);
    expect(cancels().length).toBe(before + 1);
    const id = /builds\/([^/:]+):cancel$/.exec(cancels().at(-1)?.path ?? '')?.[1] ?? '';
    await gcp.cloudbuild.settled();
    expect(gcp.cloudbuild.builds.get(id)?.status).toBe('CANCELLED');
  }, 120_000);
});
