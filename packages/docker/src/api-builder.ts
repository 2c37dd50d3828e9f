/** Which builder a build over the Engine API runs, and why: shown by `zenbuild engine`. */
export interface ApiBuilder {
  buildkit: boolean;
  why: string;
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
  if (setting === '1' || setting === 'true') return { buildkit: true, why: 'DOCKER_BUILDKIT=1' };
  if (ping.builderVersion === '1') return legacy('the daemon’s config turns BuildKit off');
  return { buildkit: true, why: 'the daemon has it' };
}

function legacy(why: string): ApiBuilder {
  return { buildkit: false, why };
}

function apiAtLeast(version: string | undefined, [major, minor]: number[]): boolean {
  const match = /^(\d+)\.(\d+)/.exec(version ?? '');
  if (!match) return false;
  const [have, haveMinor] = [Number(match[1]), Number(match[2])];
  return have > (major ?? 0) || (have === major && haveMinor >= (minor ?? 0));
}

/**
 * The builder for one build: the daemon's, except that BuildKit in Docker's builder ignores `shm_size`
 * (it sizes /dev/shm at 64 MiB whatever is asked), so a build that sets it runs on the legacy builder,
 * which honours it, unless it needs BuildKit for its secrets.
 */
export function builderForOptions(
  daemon: ApiBuilder,
  options: { shmSize?: number; secrets?: object },
): ApiBuilder {
  if (!daemon.buildkit || options.shmSize === undefined) return daemon;
  if (options.secrets && Object.keys(options.secrets).length > 0) return daemon;
  return legacy('shm_size is set, which BuildKit in Docker ignores');
}
