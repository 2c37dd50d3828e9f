import {
  type BuildOptions,
  buildOptionYamlName,
  invalidInput,
  sharedBuildFlags,
} from '@zenbuild/core/backend';

/**
 * The typed build options as Docker Engine API build parameters, one explicit mapping per option.
 * Options the API cannot honour here are refused before anything runs.
 *
 * The daemon reads maps (`buildargs`, `labels`) and `cachefrom` as JSON and `extrahosts` as the
 * parameter repeated, `host:ip` each: docker-modem writes an object as JSON and an array as repeated
 * parameters, and dockerode turns a `cachefrom` array into JSON itself.
 */
export function toBuildQuery(options: BuildOptions): Record<string, unknown> {
  // The Engine API mode builds with the legacy builder, which has no build secrets.
  if (options.secrets !== undefined && Object.keys(options.secrets).length > 0) {
    throw invalidInput(
      `The docker engine's Engine API mode builds with the legacy builder, which cannot mount the build option \`${buildOptionYamlName('secrets')}\`; build with \`use_subprocess_call: true\` and a BuildKit docker CLI (buildx, or DOCKER_BUILDKIT=1), or with podman.`,
      { path: buildOptionYamlName('secrets') },
    );
  }
  const unsupported = (['squash', 'isolation'] as const).filter((key) => options[key] !== undefined);
  if (unsupported.length > 0) {
    throw invalidInput(
      `The docker engine does not support the build option${unsupported.length > 1 ? 's' : ''} ${unsupported.map((k) => `\`${buildOptionYamlName(k)}\``).join(', ')} (squash needs an experimental daemon, isolation is Windows-only); remove ${unsupported.length > 1 ? 'them' : 'it'}.`,
    );
  }
  const query: Record<string, unknown> = {};
  if (options.buildArgs) query.buildargs = options.buildArgs;
  if (options.labels) query.labels = options.labels;
  if (options.target) query.target = options.target;
  if (options.platform) query.platform = options.platform;
  if (options.noCache !== undefined) query.nocache = options.noCache;
  if (options.pull !== undefined) query.pull = options.pull;
  if (options.rm !== undefined) query.rm = options.rm;
  if (options.forceRm !== undefined) query.forcerm = options.forceRm;
  if (options.network) query.networkmode = options.network;
  if (options.cacheFrom) query.cachefrom = options.cacheFrom;
  if (options.shmSize !== undefined) query.shmsize = options.shmSize;
  if (options.extraHosts) {
    query.extrahosts = Object.entries(options.extraHosts).map(([host, ip]) => `${host}:${ip}`);
  }
  return query;
}

/** The typed build options as `docker build` flags, one explicit mapping per option. */
export function toDockerCliFlags(options: BuildOptions): string[] {
  if (options.squash) {
    throw invalidInput(
      `The docker CLI engine does not support \`${buildOptionYamlName('squash')}\` (it needs an experimental daemon).`,
    );
  }
  const flags = sharedBuildFlags(options, (pull) => (pull ? ['--pull'] : []), 'env');
  if (options.isolation) flags.push('--isolation', options.isolation);
  return flags;
}
