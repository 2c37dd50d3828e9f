import { describe, expect, it } from 'vitest';
import { errorOf } from '../__fixtures__/pipeline.js';
import { mergeBuildOptions, parseBuildOptions } from './build-options.js';

describe('build options', () => {
  it("accepts ZenML's docker-py keys and maps them to the typed model", () => {
    expect(
      parseBuildOptions({
        buildargs: { V: 1, FLAG: true },
        nocache: true,
        pull: false,
        rm: true,
        forcerm: true,
        platform: 'linux/amd64',
        target: 'runtime',
        labels: { team: 'ml' },
        network_mode: 'host',
        cache_from: 'reg/cache:1',
        shmsize: 1024,
        extra_hosts: { db: '10.0.0.1' },
        squash: false,
        isolation: 'default',
      }),
    ).toEqual({
      buildArgs: { V: '1', FLAG: 'true' },
      noCache: true,
      pull: false,
      rm: true,
      forceRm: true,
      platform: 'linux/amd64',
      target: 'runtime',
      labels: { team: 'ml' },
      network: 'host',
      cacheFrom: ['reg/cache:1'],
      shmSize: 1024,
      extraHosts: { db: '10.0.0.1' },
      squash: false,
      isolation: 'default',
    });
  });

  it('accepts snake_case and camelCase spellings', () => {
    expect(parseBuildOptions({ build_args: { A: 'x' }, no_cache: true })).toEqual({
      buildArgs: { A: 'x' },
      noCache: true,
    });
    expect(parseBuildOptions({ buildArgs: { A: 'x' }, noCache: true })).toEqual({
      buildArgs: { A: 'x' },
      noCache: true,
    });
  });

  it('rejects two spellings of one option', () => {
    expect(errorOf(() => parseBuildOptions({ nocache: true, no_cache: false }, ['o'])).message).toMatch(
      /`no_cache` and `nocache` are the same option/,
    );
  });

  it('rejects unknown options and lists the known ones', () => {
    const error = errorOf(() => parseBuildOptions({ memswap: 1 }, ['build_config', 'build_options']));
    expect(error.message).toContain('build_config.build_options.memswap');
    expect(error.message).toContain('buildargs');
  });

  it('rejects a malformed platform with the spelling the user wrote', () => {
    expect(errorOf(() => parseBuildOptions({ platform: 'amd64' }, ['b'])).message).toContain('b.platform');
  });

  it('merges layers key by key, maps merged', () => {
    expect(
      mergeBuildOptions(
        { pull: true, buildArgs: { A: '1', B: '1' } },
        { pull: false, buildArgs: { B: '2' } },
      ),
    ).toEqual({ pull: false, buildArgs: { A: '1', B: '2' } });
  });
});

describe('build secrets', () => {
  it('take `env:VARIABLE` and `file:PATH`, and keep only the reference', () => {
    expect(
      parseBuildOptions({
        secrets: { pip_token: 'env:PIP_TOKEN', netrc: 'file:/home/ci/.netrc', npm: 'file:~/.npmrc' },
      }),
    ).toEqual({
      secrets: {
        pip_token: { env: 'PIP_TOKEN' },
        netrc: { file: '/home/ci/.netrc' },
        npm: { file: '~/.npmrc' },
      },
    });
  });

  it('take the cloud secret stores by reference: Secrets Manager, Parameter Store, Secret Manager', () => {
    // CodeBuild's buildspec reference (`secret-id:json-key`) and Cloud Build's version resource name.
    expect(
      parseBuildOptions({
        secrets: {
          a: 'aws-secretsmanager:ci/index:token',
          b: 'aws-ssm:/ci/index-token',
          c: 'gcp-secretmanager:projects/p1/secrets/index-token/versions/latest',
        },
      }),
    ).toEqual({
      secrets: {
        a: { awsSecretsManager: 'ci/index:token' },
        b: { awsParameterStore: '/ci/index-token' },
        c: { gcpSecretManager: 'projects/p1/secrets/index-token/versions/latest' },
      },
    });
  });

  it('refuse a value that is not a reference, a relative file and an id with spaces, naming the field', () => {
    expect(() => parseBuildOptions({ secrets: { token: 'hunter2' } })).toThrow(
      /secrets\.token: must be `env:VARIABLE`, `file:PATH`/,
    );
    expect(() => parseBuildOptions({ secrets: { netrc: 'file:.netrc' } })).toThrow(/absolute/);
    // A Secret Manager name without its version is not a version resource name.
    expect(() => parseBuildOptions({ secrets: { t: 'gcp-secretmanager:projects/p/secrets/s' } })).toThrow(
      /gcp-secretmanager:projects\/P\/secrets\/S\/versions\/V/,
    );
    expect(() => parseBuildOptions({ secrets: { 'my token': 'env:T' } })).toThrow(/a secret id is letters/);
  });
});
