import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, zenbuild } from '../helpers/cli.js';

// This package depends on @zenbuild/docker and not on @zenbuild/podman: like a user project with one backend.
const project = path.join(repoRoot, 'test');

describe('zenbuild engine', () => {
  it('finds the docker backend installed in the project and says why it was chosen', () => {
    const result = zenbuild(['engine', '--json'], {}, project);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      engine: 'docker',
      reason: expect.stringMatching(
        /^first engine tried; the Docker daemon at unix:\/\/\/var\/run\/docker\.sock .* answered/,
      ),
      attempts: [{ engine: 'docker', available: true }],
    });
  });

  it('exits 3 naming the package when the pinned engine is not installed', () => {
    const result = zenbuild(['engine'], { ZENML_CONTAINER_ENGINE: 'podman' }, project);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(
      'The requested container engine podman (ZENML_CONTAINER_ENGINE=podman) is not available',
    );
    expect(result.stderr).toContain('pnpm add @zenbuild/podman');
  });

  it('exits 3 with what was tried when the pinned docker daemon does not answer', () => {
    const result = zenbuild(
      ['engine'],
      { ZENML_CONTAINER_ENGINE: 'docker', DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
      project,
    );
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('unix:///nonexistent/docker.sock (DOCKER_HOST) does not answer');
  });
});
