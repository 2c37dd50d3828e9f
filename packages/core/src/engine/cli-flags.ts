import type { BuildOptions } from '../settings/build-options.js';

/**
 * The flags the docker and podman CLIs spell alike, in one order. Each CLI engine adds what differs
 * (how `pull` is written, podman's `--format`, which of squash and isolation it accepts).
 */
export function sharedBuildFlags(options: BuildOptions, pullFlag: (pull: boolean) => string[]): string[] {
  const flags: string[] = [];
  for (const [key, value] of Object.entries(options.buildArgs ?? {}))
    flags.push('--build-arg', `${key}=${value}`);
  for (const [key, value] of Object.entries(options.labels ?? {})) flags.push('--label', `${key}=${value}`);
  if (options.target) flags.push('--target', options.target);
  if (options.platform) flags.push('--platform', options.platform);
  if (options.noCache) flags.push('--no-cache');
  if (options.pull !== undefined) flags.push(...pullFlag(options.pull));
  if (options.rm !== undefined) flags.push(`--rm=${options.rm}`);
  if (options.forceRm !== undefined) flags.push(`--force-rm=${options.forceRm}`);
  if (options.network) flags.push('--network', options.network);
  for (const image of options.cacheFrom ?? []) flags.push('--cache-from', image);
  // Bytes without a unit: podman hands a `b` suffix on to the tmpfs mount, which refuses it.
  if (options.shmSize !== undefined) flags.push('--shm-size', String(options.shmSize));
  for (const [host, ip] of Object.entries(options.extraHosts ?? {}))
    flags.push('--add-host', `${host}:${ip}`);
  return flags;
}
