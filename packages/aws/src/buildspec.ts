import { type BuildOptions, hasBuildSecrets } from '@zenbuild/core/backend';
import { quote } from 'shell-quote';
import { stringify } from 'yaml';
import { dockerBuildFlags } from './options.js';

/** How the build logs in to the registry before pushing. */
export type RegistryLogin =
  | { kind: 'none' }
  /** `aws ecr get-login-password` with the build's service role. */
  | { kind: 'ecr'; region: string }
  /** `docker login` with variables CodeBuild resolves from Secrets Manager or Parameter Store. */
  | { kind: 'credentials' };

export interface BuildspecInput {
  /** The full target, `registry/repository:tag`. */
  image: string;
  repository: string;
  registryHost: string;
  dockerfile: string;
  options: BuildOptions;
  login: RegistryLogin;
}

/** The variable the buildspec exports with the pushed manifest digest (`sha256:...`). */
export const DIGEST_VARIABLE = 'ZENBUILD_IMAGE_DIGEST';
/** Variables that carry registry credentials into the build, never as plain text. */
export const USERNAME_VARIABLE = 'ZENBUILD_REGISTRY_USERNAME';
export const PASSWORD_VARIABLE = 'ZENBUILD_REGISTRY_PASSWORD';

export interface Buildspec {
  version: number;
  env: { variables: Record<string, string>; 'exported-variables': string[] };
  phases: Record<string, { 'on-failure'?: 'ABORT' | 'CONTINUE'; commands: string[] }>;
}

/**
 * The buildspec as data (serialised with a YAML library, never by string templating, where ZenML templates its buildspec as a string).
 * Values reach the shell either through variables or quoted by shell-quote, so no image name, build
 * argument or label can change what a command does.
 */
export function createBuildspec(input: BuildspecInput): Buildspec {
  const login = loginCommands(input.login);
  return {
    version: 0.2,
    env: {
      variables: {
        ZENBUILD_IMAGE: input.image,
        ZENBUILD_REPOSITORY: input.repository,
        ZENBUILD_REGISTRY: input.registryHost,
        // Build secrets are BuildKit mounts (`--secret`); without them the build keeps docker's default.
        ...(hasBuildSecrets(input.options) ? { DOCKER_BUILDKIT: '1' } : {}),
      },
      'exported-variables': [DIGEST_VARIABLE],
    },
    phases: {
      install: { 'on-failure': 'ABORT', commands: [START_DOCKERD] },
      ...(login.length > 0 ? { pre_build: { 'on-failure': 'ABORT' as const, commands: login } } : {}),
      build: {
        'on-failure': 'ABORT',
        commands: [
          quote([
            'docker',
            'build',
            ...dockerBuildFlags(input.options),
            '-f',
            input.dockerfile,
            '-t',
            input.image,
            '.',
          ]),
        ],
      },
      post_build: {
        'on-failure': 'ABORT',
        commands: [
          'docker push "$ZENBUILD_IMAGE"',
          // After a push the engine knows the manifest digest the registry stored for this repository.
          `export ${DIGEST_VARIABLE}="$(docker inspect --format '{{range .RepoDigests}}{{println .}}{{end}}' "$ZENBUILD_IMAGE" | grep -F "$ZENBUILD_REPOSITORY@" | head -n 1 | cut -d @ -f 2)"`,
          `[ -n "$${DIGEST_VARIABLE}" ] || { echo "zenbuild: no digest was reported for $ZENBUILD_IMAGE" >&2; exit 1; }`,
          `echo "Pushed $ZENBUILD_REPOSITORY@$${DIGEST_VARIABLE}"`,
        ],
      },
    },
  };
}

/**
 * CodeBuild's Docker samples for images that are not CodeBuild's own (the default here,
 * `bentolor/docker-dind-awscli`) start dockerd in the install phase and wait for `docker info`. Only
 * when `docker info` fails: CodeBuild's own images in privileged mode run a daemon already. The wait is
 * bounded (ZENBUILD_DOCKERD_WAIT seconds, default 60) and says what it does in the build log.
 */
export const START_DOCKERD = [
  'docker info >/dev/null 2>&1 || {',
  'echo "zenbuild: docker info failed: starting dockerd (the build image runs no Docker daemon)";',
  'nohup dockerd --host="${DOCKER_HOST:-unix:///var/run/docker.sock}" >/tmp/zenbuild-dockerd.log 2>&1 &',
  'waited=0;',
  'until docker info >/dev/null 2>&1; do',
  'if [ "$waited" -ge "${ZENBUILD_DOCKERD_WAIT:-60}" ]; then',
  'echo "zenbuild: dockerd did not answer within $waited s; its log:" >&2;',
  'tail -n 20 /tmp/zenbuild-dockerd.log >&2; exit 1;',
  'fi; sleep 1; waited=$((waited + 1));',
  'done;',
  'echo "zenbuild: dockerd is up after $waited s";',
  '}',
  // One line: CodeBuild writes each command into the log, and a long one would crowd out the tail.
].join(' ');

export function serializeBuildspec(spec: Buildspec): string {
  return stringify(spec, { lineWidth: 0 });
}

function loginCommands(login: RegistryLogin): string[] {
  switch (login.kind) {
    case 'none':
      return [];
    case 'ecr':
      return [
        `aws ecr get-login-password --region ${quote([login.region])} | docker login --username AWS --password-stdin "$ZENBUILD_REGISTRY"`,
      ];
    case 'credentials':
      return [
        `printf '%s' "$${PASSWORD_VARIABLE}" | docker login --username "$${USERNAME_VARIABLE}" --password-stdin "$ZENBUILD_REGISTRY"`,
      ];
  }
}
