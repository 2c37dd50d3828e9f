import { type BuildOptions, buildOptionYamlName, invalidInput } from '@zenbuild/core';

/**
 * The typed build options as Docker Engine API build parameters, one explicit mapping per option.
 * Options the API cannot honour here are refused before anything runs.
 */
export function toBuildQuery(options: BuildOptions): Record<string, unknown> {
  const unsupported = (['extraHosts', 'squash', 'isolation'] as const).filter(
    (key) => options[key] !== undefined,
  );
  if (unsupported.length > 0) {
    throw invalidInput(
      `The docker engine does not support the build option${unsupported.length > 1 ? 's' : ''} ${unsupported.map((k) => `\`${buildOptionYamlName(k)}\``).join(', ')} (squash needs an experimental daemon, isolation is Windows-only, extra hosts are not mapped yet); remove ${unsupported.length > 1 ? 'them' : 'it'}.`,
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
  return query;
}
