import { describe, expect, it } from 'vitest';
import { asyncErrorOf } from '../__fixtures__/pipeline.js';
import { importBackend, loadEngineFlavor, loadImageBuilderFlavor } from './registry.js';

describe('lazy backend loading', () => {
  it('turns a missing package into a NOT_AVAILABLE error naming it (real import)', async () => {
    const error = await asyncErrorOf(() => loadImageBuilderFlavor('aws'));
    expect(error.code).toBe('NOT_AVAILABLE');
    expect(error.message).toContain('needs the package @zenbuild/aws, which is not installed');
    expect(error.message).toContain('pnpm add @zenbuild/aws');
  });

  it('tells a broken install apart from a missing package', async () => {
    const error = await asyncErrorOf(() =>
      importBackend('@zenbuild/docker', 'The docker engine', async () => {
        throw Object.assign(new Error("Cannot find package 'dockerode' imported from x"), {
          code: 'ERR_MODULE_NOT_FOUND',
        });
      }),
    );
    expect(error.message).toContain('installed but failed to load');
    expect(error.message).toContain('dockerode');
  });

  it('rejects a package that does not export the flavor it should', async () => {
    const error = await asyncErrorOf(() =>
      loadEngineFlavor('podman', async () => ({ engine: { name: 'docker', create() {} } })),
    );
    expect(error.message).toContain('does not export a container engine named `podman`');
  });
});
