import { existsSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

let dockerShim: string | undefined;

/**
 * A directory whose `docker` is Debian's 20.10 client, which builds with BuildKit when DOCKER_BUILDKIT=1
 * (the docker first on PATH here has no buildx): the clouds' build images have a BuildKit docker, which
 * build secrets (`--secret id=…,env=…`) need.
 */
export function buildKitDocker(): string {
  if (!dockerShim) {
    dockerShim = mkdtempSync(path.join(tmpdir(), 'zenbuild-build-image-'));
    if (existsSync('/usr/bin/docker')) symlinkSync('/usr/bin/docker', path.join(dockerShim, 'docker'));
  }
  return dockerShim;
}

/**
 * The environment a fake cloud builder runs its build in, its "build image": the local docker CLI and
 * daemon, the classic builder unless the build sets DOCKER_BUILDKIT=1 (as zenbuild does for secrets).
 */
export const localBuildEnv = (): NodeJS.ProcessEnv => ({
  PATH: `${buildKitDocker()}:${process.env.PATH}`,
  HOME: process.env.HOME,
  DOCKER_BUILDKIT: '0',
  ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
});
