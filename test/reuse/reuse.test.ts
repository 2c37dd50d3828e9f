import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createBuildRecord,
  findReusableBuild,
  LocalBuildStore,
  loadPipelineConfig,
  planBuilds,
  planChecksums,
  prepareContexts,
  resolveParentDigests,
  type Stack,
  stackFromData,
  verifyCustomBuild,
  type Warning,
} from '@zenbuild/core';
import { RegistryClient } from '@zenbuild/core/backend';
import { describe, expect, inject, it } from 'vitest';
import { deleteImage, pushImage } from '../infra/push.js';

const { open } = inject('registries');

/** A project whose image includes its code, built on a parent image in the real registry. */
function setup(docker: Record<string, unknown> = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-reuse-'));
  mkdirSync(path.join(dir, 'src'));
  writeFileSync(path.join(dir, 'src/train.py'), 'print("train")\n');
  writeFileSync(path.join(dir, '.zen'), '');
  const parent = `${open}/reuse/parent-${path.basename(dir).slice(-6).toLowerCase()}:3.11`;
  writeFileSync(
    path.join(dir, 'pipeline.yaml'),
    JSON.stringify({
      name: 'reuse',
      settings: {
        docker: {
          parent_image: parent,
          requirements: ['pandas'],
          allow_download_from_artifact_store: false,
          ...docker,
        },
      },
    }),
  );
  const stack = stackFromData({
    name: 'local',
    components: { container_registry: { flavor: 'default', uri: open } },
  }).stack;
  return { dir, parent, stack, home: mkdtempSync(path.join(tmpdir(), 'zenbuild-home-')) };
}

const client = new RegistryClient({ env: { DOCKER_CONFIG: '/nonexistent' } });

async function checksumOf(dir: string, stack: Stack, home: string, warnings: Warning[] = []) {
  const pipeline = await loadPipelineConfig(path.join(dir, 'pipeline.yaml'), { env: {} });
  const plan = planBuilds({ pipeline, stack, env: {} });
  const contexts = await prepareContexts(plan, { home });
  const contextHashes = Object.fromEntries(Object.entries(contexts).map(([id, c]) => [id, c.hash]));
  const parentDigests = await resolveParentDigests(plan, client, warnings);
  return { plan, contextHashes, parentDigests, checksums: planChecksums(plan, contextHashes, parentDigests) };
}

/** Records a build as `zenbuild build` would after pushing: every image pushed to the registry. */
async function recordBuild(dir: string, stack: Stack, home: string) {
  const state = await checksumOf(dir, stack, home);
  const built: Record<string, { image: string; digest: string }> = {};
  for (const build of state.plan.builds) {
    const repository = build.imageName.slice(open.length + 1).split(':')[0] as string;
    const digest = await pushImage(open, repository, build.imageName.split(':').pop() as string, {
      content: state.checksums.checksum,
    });
    built[build.key] = { image: `${open}/${repository}@${digest}`, digest };
  }
  const record = createBuildRecord({ ...state, stack, built, durationMs: 1234 });
  await new LocalBuildStore(home).save(record);
  return { record, ...state };
}

const exists = (image: string) => client.exists(image);

/** The reuse decision for the pipeline as `now` planned it, against the builds recorded in `home`. */
const decideNow = (now: Awaited<ReturnType<typeof checksumOf>>, stack: Stack, home: string) =>
  findReusableBuild({
    store: new LocalBuildStore(home),
    plan: now.plan,
    checksum: now.checksums.checksum,
    stack,
    exists,
  });

describe('build reuse against a real registry', () => {
  it('reuses an earlier build with the same checksum whose images exist, even when they contain code', async () => {
    const { dir, parent, stack, home } = setup();
    await pushImage(open, parent.slice(open.length + 1).split(':')[0] as string, '3.11', {
      content: 'parent v1',
    });
    const { record } = await recordBuild(dir, stack, home);
    expect(record.containsCode).toBe(true);
    const now = await checksumOf(dir, stack, home);
    const decision = await decideNow(now, stack, home);
    expect(decision.record?.id).toBe(record.id);
    expect(decision.reason).toContain('same stack, registry and checksum, and its images still exist');
  });

  it('does not reuse once the parent image changed in the registry (its digest is in the checksum)', async () => {
    const { dir, parent, stack, home } = setup();
    const repository = parent.slice(open.length + 1).split(':')[0] as string;
    await pushImage(open, repository, '3.11', { content: 'parent v1' });
    const before = await recordBuild(dir, stack, home);
    await pushImage(open, repository, '3.11', { content: 'parent v2' });
    const after = await checksumOf(dir, stack, home);
    expect(after.parentDigests[parent]).not.toBe(before.parentDigests[parent]);
    expect(after.checksums.checksum).not.toBe(before.checksums.checksum);
    const decision = await decideNow(after, stack, home);
    expect(decision.record).toBeUndefined();
  });

  it('does not reuse once an image a custom Dockerfile mounts with RUN --mount changed in the registry', async () => {
    const { dir, stack, home } = setup();
    const tools = `${open}/reuse/tools-${path.basename(dir).slice(-6).toLowerCase()}`;
    writeFileSync(
      path.join(dir, 'Dockerfile'),
      `FROM ${tools}:1\nRUN --mount=type=bind,from=${tools}:2,target=/tools true\n`,
    );
    writeFileSync(
      path.join(dir, 'pipeline.yaml'),
      JSON.stringify({ name: 'reuse', settings: { docker: { dockerfile: 'Dockerfile' } } }),
    );
    await pushImage(open, tools.slice(open.length + 1), '1', { content: 'base' });
    await pushImage(open, tools.slice(open.length + 1), '2', { content: 'tools v1' });
    const before = await recordBuild(dir, stack, home);
    expect(before.plan.builds[0]?.pulls).toEqual([`${tools}:1`, `${tools}:2`]);
    await pushImage(open, tools.slice(open.length + 1), '2', { content: 'tools v2' });
    const after = await checksumOf(dir, stack, home);
    expect(after.parentDigests[`${tools}:1`]).toBe(before.parentDigests[`${tools}:1`]);
    expect(after.parentDigests[`${tools}:2`]).not.toBe(before.parentDigests[`${tools}:2`]);
    const decision = await decideNow(after, stack, home);
    expect(decision.record).toBeUndefined();
  });

  it('does not reuse once a source file changed (the context hash is in the checksum)', async () => {
    const { dir, parent, stack, home } = setup();
    await pushImage(open, parent.slice(open.length + 1).split(':')[0] as string, '3.11');
    const before = await recordBuild(dir, stack, home);
    writeFileSync(path.join(dir, 'src/train.py'), 'print("changed")\n');
    const after = await checksumOf(dir, stack, home);
    expect(after.checksums.checksum).not.toBe(before.checksums.checksum);
  });

  it('does not reuse a build whose images were deleted from the registry', async () => {
    const { dir, parent, stack, home } = setup();
    await pushImage(open, parent.slice(open.length + 1).split(':')[0] as string, '3.11');
    const { record, plan, checksums } = await recordBuild(dir, stack, home);
    const image = Object.values(record.images)[0];
    const [repository, digest] = (image?.image.slice(open.length + 1) ?? '').split('@') as [string, string];
    await deleteImage(open, repository, digest);
    const decision = await findReusableBuild({
      store: new LocalBuildStore(home),
      plan,
      checksum: checksums.checksum,
      stack,
      exists,
    });
    expect(decision.record).toBeUndefined();
    expect(decision.reason).toContain('their images are gone');
  });

  it('does not reuse across stacks, with --no-reuse, or with prevent_build_reuse', async () => {
    const { dir, parent, stack, home } = setup();
    await pushImage(open, parent.slice(open.length + 1).split(':')[0] as string, '3.11');
    const { plan, checksums } = await recordBuild(dir, stack, home);
    const store = new LocalBuildStore(home);
    const other = { ...stack, name: 'other' };
    expect(
      (await findReusableBuild({ store, plan, checksum: checksums.checksum, stack: other, exists })).reason,
    ).toContain('no earlier build of stack `other`');
    expect(
      (await findReusableBuild({ store, plan, checksum: checksums.checksum, stack, exists, noReuse: true }))
        .reason,
    ).toContain('--no-reuse');
    writeFileSync(
      path.join(dir, 'pipeline.yaml'),
      JSON.stringify({
        name: 'reuse',
        settings: { docker: { parent_image: parent, requirements: ['pandas'], prevent_build_reuse: true } },
      }),
    );
    const prevented = await checksumOf(dir, stack, home);
    const decision = await findReusableBuild({
      store,
      plan: prevented.plan,
      checksum: prevented.checksums.checksum,
      stack,
      exists,
    });
    expect(decision.record).toBeUndefined();
    expect(decision.reason).toContain('`prevent_build_reuse` is set for orchestrator');
  });

  it('warns when a parent digest cannot be resolved, and keeps going', async () => {
    const { dir, stack, home } = setup({ parent_image: `${open}/reuse/not-pushed:1` });
    const warnings: Warning[] = [];
    const { checksums, parentDigests } = await checksumOf(dir, stack, home, warnings);
    expect(Object.values(parentDigests)).toEqual([null]);
    expect(checksums.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(warnings[0]?.message).toContain('is not in its registry');
  });

  it('identifies a local parent by its image id, also when it was pushed under another name', async () => {
    const { dir, stack } = setup({ parent_image: 'team/base:1' });
    const pipeline = await loadPipelineConfig(path.join(dir, 'pipeline.yaml'), { env: {} });
    const plan = planBuilds({ pipeline, stack, env: {} });
    const id = `sha256:${'b'.repeat(64)}`;
    const asked: string[] = [];
    const local = async (image: string) => {
      asked.push(image);
      return { id, repoDigests: [`${open}/elsewhere/base@sha256:${'c'.repeat(64)}`] };
    };
    const warnings: Warning[] = [];
    // team/base has no registry here (Docker Hub is unreachable): asking it would only warn.
    expect(await resolveParentDigests(plan, client, warnings, local)).toEqual({ 'team/base:1': id });
    expect(asked).toEqual(['team/base:1']);
    expect(warnings).toEqual([]);
  });

  it('identifies a parent its registry does not have by the engine’s copy (podman lists a digest for every name)', async () => {
    const { dir, stack } = setup({ parent_image: `${open}/reuse/only-here:1` });
    const pipeline = await loadPipelineConfig(path.join(dir, 'pipeline.yaml'), { env: {} });
    const plan = planBuilds({ pipeline, stack, env: {} });
    const id = `sha256:${'d'.repeat(64)}`;
    const local = async () => ({ id, repoDigests: [`${open}/reuse/only-here@sha256:${'e'.repeat(64)}`] });
    const warnings: Warning[] = [];
    expect(await resolveParentDigests(plan, client, warnings, local)).toEqual({
      [`${open}/reuse/only-here:1`]: id,
    });
    expect(warnings).toEqual([]);
  });

  it('--build ID: warns where a given build does not match', async () => {
    const { dir, parent, stack, home } = setup();
    await pushImage(open, parent.slice(open.length + 1).split(':')[0] as string, '3.11');
    const { record } = await recordBuild(dir, stack, home);
    writeFileSync(path.join(dir, 'src/train.py'), 'print("changed")\n');
    const now = await checksumOf(dir, stack, home);
    const { warnings, missingKeys } = verifyCustomBuild(record, {
      plan: now.plan,
      checksums: now.checksums,
      stack: { ...stack, name: 'prod' },
    });
    expect(missingKeys).toEqual([]);
    expect(warnings.map((w) => w.message).join('\n')).toMatch(
      /made for stack `local`, not `prod`[\s\S]*contains code[\s\S]*does not match/,
    );
  });
});
