/**
 * The environment a fake cloud builder runs its build in, its "build image": the local docker CLI and
 * daemon. The docker first on PATH has no buildx, so the classic builder is used, as in the rest of the
 * tests.
 */
export const localBuildEnv = (): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  DOCKER_BUILDKIT: '0',
  ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
});
