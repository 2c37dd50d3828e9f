import { type BuildOptions, type BuildRequest, remoteDockerBuildFlags } from '@zenbuild/core/backend';

/** The `docker build` step's arguments: ZenML's shape, with the options mapped explicitly. */
export function dockerBuildArgs(
  request: Pick<BuildRequest, 'options' | 'dockerfile' | 'imageName'>,
  network: string,
): string[] {
  return [
    'build',
    `--network=${network}`,
    ...dockerFlags(request.options),
    '-f',
    request.dockerfile,
    '-t',
    request.imageName,
    '.',
  ].map(escapeSubstitutions);
}

/**
 * Cloud Build reads `$VAR`, `${VAR}` and `$$` in step arguments as substitutions: a label or build arg
 * `a$b` would fail the build in the default MUST_MATCH mode (or lose `$b` with ALLOW_LOOSE), and
 * `$PROJECT_ID` would become the project. `$$` is Cloud Build's escape for one `$`.
 */
export function escapeSubstitutions(arg: string): string {
  return arg.replaceAll('$', '$$$$');
}

/** The `docker build` flags of the options; what Cloud Build cannot honour is refused before any upload. */
export function dockerFlags(options: BuildOptions): string[] {
  const why = "Cloud Build's docker has no experimental features";
  return remoteDockerBuildFlags(options, 'gcp', {
    squash: why,
    isolation: why,
    network: 'the build network comes from the `network` field of the image builder config; set it there',
    secrets: 'zenbuild does not pass build secrets to Cloud Build yet',
  });
}
