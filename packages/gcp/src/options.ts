import {
  type BuildOptions,
  type BuildRequest,
  invalidInput,
  type RemoteBuildSecret,
  remoteBuildSecrets,
  remoteDockerBuildFlags,
  remoteSecretFlags,
} from '@zenbuild/core/backend';

/** The `docker build` step's arguments: ZenML's shape, with the options mapped explicitly. */
export function dockerBuildArgs(
  request: Pick<BuildRequest, 'options' | 'dockerfile' | 'imageName'>,
  network: string,
): string[] {
  // Secrets are BuildKit mounts, and BuildKit in Docker runs steps on the default, host or no network
  // only ("network mode … not supported by buildkit"): the `cloudbuild` network cannot be kept.
  if (cloudBuildSecrets(request.options).length > 0 && !['default', 'host', 'none'].includes(network)) {
    throw invalidInput(
      `The gcp image builder mounts build secrets with BuildKit, which cannot run the build on the \`${network}\` network; set the image builder's \`network\` to \`default\` or \`host\` for builds with secrets.`,
      { path: 'network' },
    );
  }
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
  return [
    ...remoteDockerBuildFlags(options, 'gcp', {
      squash: why,
      isolation: why,
      network: 'the build network comes from the `network` field of the image builder config; set it there',
    }),
    ...remoteSecretFlags(cloudBuildSecrets(options)),
  ];
}

/**
 * The build's secrets, which Cloud Build reads from Secret Manager (`availableSecrets.secretManager`)
 * into the step's `secretEnv`: never a value in the Build resource.
 */
export function cloudBuildSecrets(options: BuildOptions): RemoteBuildSecret[] {
  return remoteBuildSecrets(options, 'gcp', {
    accepts: (source) => 'gcpSecretManager' in source,
    names: 'Secret Manager (`gcp-secretmanager:projects/P/secrets/S/versions/V`)',
  });
}
