import { describe, expect, it } from 'vitest';
import { builderForOptions, chooseApiBuilder } from './api-builder.js';

const linux = { apiVersion: '1.41', osType: 'linux', builderVersion: undefined };

describe('chooseApiBuilder', () => {
  it('takes BuildKit when the daemon has it, as Docker 23 and later do by default', () => {
    expect(chooseApiBuilder({}, linux)).toEqual({ buildkit: true, why: 'the daemon has it' });
    expect(chooseApiBuilder({}, { ...linux, builderVersion: '2' }).buildkit).toBe(true);
  });

  it('keeps the legacy builder where DOCKER_BUILDKIT=0, the daemon turns BuildKit off, or cannot', () => {
    expect(chooseApiBuilder({ DOCKER_BUILDKIT: '0' }, linux)).toEqual({
      buildkit: false,
      why: 'DOCKER_BUILDKIT=0',
    });
    expect(chooseApiBuilder({ DOCKER_BUILDKIT: 'false' }, linux).buildkit).toBe(false);
    expect(chooseApiBuilder({}, { ...linux, builderVersion: '1' }).why).toMatch(/config turns BuildKit off/);
    expect(chooseApiBuilder({}, { ...linux, osType: 'windows' }).why).toMatch(/runs on windows/);
    expect(chooseApiBuilder({}, { ...linux, apiVersion: '1.38' }).why).toMatch(
      /API 1.38 is older than BuildKit/,
    );
    expect(chooseApiBuilder({}, { ...linux, apiVersion: undefined }).buildkit).toBe(false);
  });

  it('asks for BuildKit with DOCKER_BUILDKIT=1 even where the daemon’s config says otherwise', () => {
    expect(chooseApiBuilder({ DOCKER_BUILDKIT: '1' }, { ...linux, builderVersion: '1' })).toEqual({
      buildkit: true,
      why: 'DOCKER_BUILDKIT=1',
    });
    // But not where the daemon has none.
    expect(chooseApiBuilder({ DOCKER_BUILDKIT: '1' }, { ...linux, apiVersion: '1.30' }).buildkit).toBe(false);
  });

  it('builds a shm_size with the legacy builder unless secrets need BuildKit', () => {
    const buildkit = chooseApiBuilder({}, linux);
    expect(builderForOptions(buildkit, {})).toBe(buildkit);
    expect(builderForOptions(buildkit, { shmSize: 1024 })).toEqual({
      buildkit: false,
      why: 'shm_size is set, which BuildKit in Docker ignores',
    });
    expect(builderForOptions(buildkit, { shmSize: 1024, secrets: { a: {} } })).toBe(buildkit);
  });
});
