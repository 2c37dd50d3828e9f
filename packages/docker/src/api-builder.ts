import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  type BuildOptions,
  buildOptionYamlName,
  hasBuildSecrets,
  invalidInput,
  isPlainHttpRegistry,
} from '@zenbuild/core/backend';

/** Which builder a build over the Engine API runs, and why: shown by `zenbuild engine`. */
export interface ApiBuilder {
  buildkit: boolean;
  why: string;
  /** The daemon's API version, when known: what its BuildKit can do depends on it. */
  apiVersion?: string;
}

/** What the daemon says of itself in `/_ping`'s headers. */
export interface DaemonPing {
  apiVersion: string | undefined;
  osType: string | undefined;
  /** `Builder-Version`: "2" or "1" where the daemon's config sets `features.buildkit`, else absent. */
  builderVersion: string | undefined;
}

/** BuildKit builds came with Docker 18.09, API 1.39 (`version=2` on POST /build). */
const FIRST_BUILDKIT_API = [1, 39];

/**
 * BuildKit whenever the daemon has it, as Docker 23 and later decide by default: the legacy builder
 * only where DOCKER_BUILDKIT=0, the daemon's config turns BuildKit off (`Builder-Version: 1`), or the
 * daemon cannot (Windows, an API older than 1.39). DOCKER_BUILDKIT=1 asks for BuildKit even where the
 * daemon's config says otherwise, as the docker CLI does.
 */
export function chooseApiBuilder(env: NodeJS.ProcessEnv, ping: DaemonPing): ApiBuilder {
  const setting = env.DOCKER_BUILDKIT?.toLowerCase();
  if (setting === '0' || setting === 'false') return legacy('DOCKER_BUILDKIT=0');
  if (ping.osType && ping.osType !== 'linux')
    return legacy(`the daemon runs on ${ping.osType}, where it has no BuildKit`);
  if (!apiAtLeast(ping.apiVersion, FIRST_BUILDKIT_API))
    return legacy(`the daemon's API ${ping.apiVersion ?? '(unknown)'} is older than BuildKit (1.39)`);
  const version = ping.apiVersion ? { apiVersion: ping.apiVersion } : {};
  if (setting === '1' || setting === 'true') return { buildkit: true, why: 'DOCKER_BUILDKIT=1', ...version };
  if (ping.builderVersion === '1') return legacy('the daemon’s config turns BuildKit off');
  return { buildkit: true, why: 'the daemon has it', ...version };
}

/** The builder in words: `BuildKit: DOCKER_BUILDKIT=1`, `the legacy builder: DOCKER_BUILDKIT=0`. */
export function describeBuilder(builder: ApiBuilder): string {
  return `${builder.buildkit ? 'BuildKit' : 'the legacy builder'}: ${builder.why}`;
}

export function legacy(why: string): ApiBuilder {
  return { buildkit: false, why };
}

function apiAtLeast(version: string | undefined, [major, minor]: number[]): boolean {
  const match = /^(\d+)\.(\d+)/.exec(version ?? '');
  if (!match) return false;
  const [have, haveMinor] = [Number(match[1]), Number(match[2])];
  return have > (major ?? 0) || (have === major && haveMinor >= (minor ?? 0));
}

/**
 * Where BuildKit in Docker falls short of the legacy builder for a build: before Docker 23 (API 1.42) it
 * ignores `shm_size` (/dev/shm stays 64 MiB; BuildKit gained it in 0.10, moby/buildkit#2384, and Docker's
 * builder passes it on since), and it pulls from registries over verified https whatever the daemon's
 * `insecure-registries` and `/etc/docker/certs.d` say (moby#41080, docker/cli#3186), so a parent on
 * such a registry cannot be pulled. `mistrusted`: the non-loopback registries the build pulls from that
 * the daemon trusts in one of those ways. An unknown API version counts as an old one.
 */
export function buildkitShortfalls(
  options: { shmSize?: number },
  mistrusted: string[],
  apiVersion?: string,
): string[] {
  const reasons: string[] = [];
  if (options.shmSize !== undefined && !apiAtLeast(apiVersion, [1, 42]))
    reasons.push('shm_size is set, which BuildKit in Docker before 23 ignores');
  if (mistrusted.length > 0)
    reasons.push(
      `it pulls from ${mistrusted.join(', ')}, which BuildKit in Docker reaches without the daemon's insecure-registries and certs.d`,
    );
  return reasons;
}

/**
 * The builder for one build: the daemon's, except where BuildKit falls short (buildkitShortfalls): then
 * the legacy builder, which does not, unless the build's secrets need BuildKit, which is refused.
 */
export function builderForBuild(
  daemon: ApiBuilder,
  options: Pick<BuildOptions, 'shmSize' | 'secrets'>,
  mistrusted: string[] = [],
): ApiBuilder {
  if (!daemon.buildkit) return daemon;
  const reasons = buildkitShortfalls(options, mistrusted, daemon.apiVersion);
  if (reasons.length === 0) return daemon;
  if (hasBuildSecrets(options)) {
    throw invalidInput(
      `The docker engine cannot build this with its secrets: they need BuildKit, and ${reasons.join('; ')}. Remove the secrets or what BuildKit cannot do, or build with podman.`,
      { path: buildOptionYamlName('secrets') },
    );
  }
  return legacy(reasons.join('; '));
}

/** The registries among `hosts` that BuildKit in Docker would not reach as the daemon does. */
export async function registriesBuildkitMistrusts(
  hosts: string[],
  daemonInsecure: (host: string) => Promise<boolean>,
  certsDir = '/etc/docker/certs.d',
): Promise<string[]> {
  const found: string[] = [];
  for (const host of hosts) {
    // Loopback registries BuildKit speaks plain http to by itself.
    if (isPlainHttpRegistry(host, {})) continue;
    if ((await daemonInsecure(host)) || existsSync(path.join(certsDir, host))) found.push(host);
  }
  return found;
}
