import { describe, expect, it } from 'vitest';
import { buildArgsThroughEnv, sharedBuildFlags } from './cli-flags.js';

describe('build args for a local engine CLI', () => {
  it('name each arg on the command line and carry its value in the environment', () => {
    expect(buildArgsThroughEnv({ buildArgs: { GH_TOKEN: 'tok-1', A: '' } })).toEqual({
      flags: ['--build-arg', 'GH_TOKEN', '--build-arg', 'A'],
      env: { GH_TOKEN: 'tok-1', A: '' },
    });
  });
  it('keep names the CLI reads as its own settings on the command line, where they cannot redirect it', () => {
    const { flags, env } = buildArgsThroughEnv({
      buildArgs: { DOCKER_HOST: 'tcp://x:1', PATH: '/opt/bin', HOME: '/h', CONTAINERS_CONF: 'c' },
    });
    expect(env).toEqual({});
    expect(flags).toEqual([
      '--build-arg',
      'DOCKER_HOST=tcp://x:1',
      '--build-arg',
      'PATH=/opt/bin',
      '--build-arg',
      'HOME=/h',
      '--build-arg',
      'CONTAINERS_CONF=c',
    ]);
  });
  it('write NAME=value for a command that runs elsewhere (a remote builder)', () => {
    expect(sharedBuildFlags({ buildArgs: { A: '1' } }, () => [])).toEqual(['--build-arg', 'A=1']);
    expect(sharedBuildFlags({ buildArgs: { A: '1' } }, () => [], 'env')).toEqual(['--build-arg', 'A']);
  });
});
