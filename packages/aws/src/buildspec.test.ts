import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createBuildspec, serializeBuildspec } from './buildspec.js';
import { dockerBuildFlags } from './options.js';

/** The words a POSIX shell makes of a command line: what the command really receives. */
function argv(command: string): string[] {
  const result = spawnSync('sh', ['-c', `set -- ${command}; printf '%s\\0' "$@"`], { encoding: 'utf8' });
  return result.stdout.split('\0').slice(0, -1);
}

const base = {
  image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/zenml:training-orchestrator',
  repository: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/zenml',
  registryHost: '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
  dockerfile: 'Dockerfile',
  options: {},
};

describe('createBuildspec', () => {
  it('logs in to ECR with the service role, builds, pushes and exports the digest', () => {
    const spec = createBuildspec({ ...base, login: { kind: 'ecr', region: 'eu-west-1' } });
    expect(spec.version).toBe(0.2);
    expect(spec.env['exported-variables']).toEqual(['ZENBUILD_IMAGE_DIGEST']);
    expect(spec.env.variables.ZENBUILD_IMAGE).toBe(base.image);
    expect(spec.phases.pre_build?.commands).toEqual([
      'aws ecr get-login-password --region eu-west-1 | docker login --username AWS --password-stdin "$ZENBUILD_REGISTRY"',
    ]);
    // CodeBuild's Docker samples: the install phase starts dockerd when docker info fails.
    expect(spec.phases.install?.commands[0]).toMatch(
      /^docker info >\/dev\/null 2>&1 \|\| \{ .*nohup dockerd/,
    );
    expect(spec.phases.build?.commands).toHaveLength(1);
    expect(argv(spec.phases.build?.commands[0] ?? '')).toEqual([
      'docker',
      'build',
      '-f',
      'Dockerfile',
      '-t',
      base.image,
      '.',
    ]);
    expect(spec.phases.build?.['on-failure']).toBe('ABORT');
    expect(spec.phases.post_build?.commands[0]).toBe('docker push "$ZENBUILD_IMAGE"');
  });

  it('has no pre_build phase without a login, and logs in from variables with credentials', () => {
    expect(createBuildspec({ ...base, login: { kind: 'none' } }).phases.pre_build).toBeUndefined();
    const withCredentials = createBuildspec({ ...base, login: { kind: 'credentials' } });
    const login = withCredentials.phases.pre_build?.commands[0] ?? '';
    expect(login).toContain('"$ZENBUILD_REGISTRY_PASSWORD"');
    expect(login).toContain('--password-stdin');
  });

  it('quotes every user value, so none can change a command', () => {
    const spec = createBuildspec({
      ...base,
      login: { kind: 'none' },
      options: { buildArgs: { TOKEN_NAME: "a'b; rm -rf / $(id)" }, labels: { 'team name': 'ml & ops' } },
    });
    expect(argv(spec.phases.build?.commands[0] ?? '')).toEqual([
      'docker',
      'build',
      '--build-arg',
      "TOKEN_NAME=a'b; rm -rf / $(id)",
      '--label',
      'team name=ml & ops',
      '-f',
      'Dockerfile',
      '-t',
      base.image,
      '.',
    ]);
  });

  it('serialises with a YAML library: the text parses back to the same structure', () => {
    const spec = createBuildspec({
      ...base,
      login: { kind: 'ecr', region: 'eu-west-1' },
      options: { buildArgs: { MULTI: 'line one\nline: two # not a comment' } },
    });
    expect(parse(serializeBuildspec(spec))).toEqual(spec);
  });
});

describe('dockerBuildFlags', () => {
  it('maps every option explicitly', () => {
    expect(
      dockerBuildFlags({
        buildArgs: { A: '1' },
        target: 'runtime',
        platform: 'linux/amd64',
        noCache: true,
        pull: true,
        network: 'host',
        cacheFrom: ['repo:cache'],
        shmSize: 1024,
        extraHosts: { db: '10.0.0.2' },
      }),
    ).toEqual([
      '--build-arg',
      'A=1',
      '--target',
      'runtime',
      '--platform',
      'linux/amd64',
      '--no-cache',
      '--pull',
      '--network',
      'host',
      '--cache-from',
      'repo:cache',
      '--shm-size',
      '1024',
      '--add-host',
      'db:10.0.0.2',
    ]);
  });

  it('refuses what CodeBuild cannot honour, naming the option', () => {
    expect(() => dockerBuildFlags({ squash: true })).toThrow(/`squash`/);
    expect(() => dockerBuildFlags({ isolation: 'hyperv' })).toThrow(/`isolation`/);
  });
});

describe('build secrets on CodeBuild', () => {
  // CodeBuild reads these variables from the stores when the build starts (CodeBuild API reference,
  // EnvironmentVariable); `docker build --secret id=ID,env=VAR` is docker's BuildKit secret syntax.
  it('come from Secrets Manager or Parameter Store into variables, mounted with --secret, BuildKit on', () => {
    const options = {
      secrets: { token: { awsSecretsManager: 'ci/index:token' }, netrc: { awsParameterStore: '/ci/netrc' } },
    };
    expect(dockerBuildFlags(options)).toEqual([
      '--secret',
      'id=token,env=ZENBUILD_SECRET_1',
      '--secret',
      'id=netrc,env=ZENBUILD_SECRET_2',
    ]);
    const spec = createBuildspec({ ...base, login: { kind: 'none' }, options });
    expect(spec.env.variables.DOCKER_BUILDKIT).toBe('1');
    // Only the references, never a value: the buildspec holds neither.
    expect(serializeBuildspec(spec)).not.toMatch(/ci\/index|ci\/netrc/);
  });

  it('from this machine are refused before anything is uploaded: they would be in the build', () => {
    expect(() => dockerBuildFlags({ secrets: { token: { env: 'T' } } })).toThrow(
      /takes the build secret `token` only from Secrets Manager \(`aws-secretsmanager:SECRET`\) or Parameter Store/,
    );
    expect(() =>
      dockerBuildFlags({ secrets: { g: { gcpSecretManager: 'projects/p/secrets/s/versions/1' } } }),
    ).toThrow(/only from Secrets Manager/);
  });
});
