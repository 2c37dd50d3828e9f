import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, zenbuild } from '../helpers/cli.js';

// This package has @zenbuild/docker and @zenbuild/podman installed, as a user's project would.
const project = path.join(repoRoot, 'test');

describe('zenbuild engine', () => {
  it('prefers docker and says why it was chosen', () => {
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

  it('falls back to podman when the docker daemon does not answer, saying so', () => {
    const result = zenbuild(
      ['engine', '--json'],
      { DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
      project,
    );
    expect(result.code).toBe(0);
    const selection = JSON.parse(result.stdout);
    expect(selection.engine).toBe('podman');
    expect(selection.reason).toMatch(
      /^docker is not available \(.*does not answer.*\); podman 4\.\d+\.\d+ works/,
    );
  });

  it('switches to podman with ZENML_CONTAINER_ENGINE=podman', () => {
    const result = zenbuild(['engine'], { ZENML_CONTAINER_ENGINE: 'podman' }, project);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^podman: ZENML_CONTAINER_ENGINE=podman pins it; podman 4\.\d+\.\d+ works/);
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

  it('exits 3 saying how to fix it when no engine works', () => {
    const result = zenbuild(
      ['engine'],
      { DOCKER_HOST: 'unix:///nonexistent/docker.sock', PATH: '/nonexistent-bin' },
      project,
    );
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(
      /No container engine is available\. Tried: docker: .*; podman: podman does not work \(`podman` is not on PATH\)/,
    );
  });
});
