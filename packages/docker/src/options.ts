import {
  type BuildOptions,
  buildOptionYamlName,
  hasBuildSecrets,
  invalidInput,
  sharedBuildFlags,
} from '@zenbuild/core/backend';
import type { ApiBuilder } from './api-builder.js';

/**
 * The typed build options as Docker Engine API build parameters, one explicit mapping per option.
 * Options the API cannot honour here are refused before anything runs.
 *
 * The daemon reads maps (`buildargs`, `labels`) and `cachefrom` as JSON and `extrahosts` as the
 * parameter repeated, `host:ip` each: docker-modem writes an object as JSON and an array as repeated
 * parameters; `cachefrom` is written as JSON here.
 */
export function toBuildQuery(options: BuildOptions, builder: ApiBuilder): Record<string, unknown> {
  // Build secrets are a BuildKit mount; the legacy builder has nothing to mount them with.
  if (hasBuildSecrets(options) && !builder.buildkit) {
    throw invalidInput(
      `The docker engine builds with the legacy builder here (${builder.why}), which cannot mount the build option \`${buildOptionYamlName('secrets')}\`; build with BuildKit (unset DOCKER_BUILDKIT=0, or a daemon with BuildKit), or with podman.`,
      { path: buildOptionYamlName('secrets') },
    );
  }
  const unsupported = (['squash', 'isolation'] as const).filter((key) => options[key] !== undefined);
  if (unsupported.length > 0) {
    throw invalidInput(
      `The docker engine does not support the build option${unsupported.length > 1 ? 's' : ''} ${unsupported.map((k) => `\`${buildOptionYamlName(k)}\``).join(', ')} (squash needs an experimental daemon, isolation is Windows-only); remove ${unsupported.length > 1 ? 'them' : 'it'}.`,
    );
  }
  // BuildKit is `version=2`; the legacy builder `1`, the API's default.
  const query: Record<string, unknown> = { version: builder.buildkit ? '2' : '1' };
  if (options.buildArgs) query.buildargs = options.buildArgs;
  if (options.labels) query.labels = options.labels;
  if (options.target) query.target = options.target;
  if (options.platform) query.platform = options.platform;
  if (options.noCache !== undefined) query.nocache = options.noCache;
  if (options.pull !== undefined) query.pull = options.pull;
  if (options.rm !== undefined) query.rm = options.rm;
  if (options.forceRm !== undefined) query.forcerm = options.forceRm;
  if (options.network) query.networkmode = options.network;
  if (options.cacheFrom) query.cachefrom = JSON.stringify(options.cacheFrom);
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
