import { describe, expect, it } from 'vitest';
import { asyncErrorOf } from '../__fixtures__/pipeline.js';
import { importBackend, loadEngineFlavor, loadImageBuilderFlavor } from './load.js';

describe('lazy backend loading', () => {
  it('turns a missing package into a NOT_AVAILABLE error naming it (real import)', async () => {
    // Every flavor's package is in this workspace, so a real import of a missing one needs another name.
    const error = await asyncErrorOf(() =>
      importBackend('@zenbuild/no-such-backend', 'The image builder flavor `x`'),
    );
    expect(error.code).toBe('NOT_AVAILABLE');
    expect(error.message).toContain('needs the package @zenbuild/no-such-backend, which is not installed');
    expect(error.message).toContain('pnpm add @zenbuild/no-such-backend');
  });

  it('names the flavor package a stack needs when it is missing', async () => {
    const error = await asyncErrorOf(() =>
      loadImageBuilderFlavor('aws', async (specifier) => {
        throw Object.assign(new Error(`Cannot find package '${specifier}' imported from /app/x.js`), {
          code: 'ERR_MODULE_NOT_FOUND',
        });
      }),
    );
    expect(error.code).toBe('NOT_AVAILABLE');
    expect(error.message).toContain('The image builder flavor `aws` needs the package @zenbuild/aws');
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
