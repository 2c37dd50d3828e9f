import { describe, expect, it } from 'vitest';
import { builderForBuild, chooseApiBuilder, registriesBuildkitMistrusts } from './api-builder.js';

const linux = { apiVersion: '1.41', osType: 'linux', builderVersion: undefined };

describe('chooseApiBuilder', () => {
  it('takes BuildKit when the daemon has it, as Docker 23 and later do by default', () => {
    expect(chooseApiBuilder({}, linux)).toEqual({
      buildkit: true,
      why: 'the daemon has it',
      apiVersion: '1.41',
    });
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
      apiVersion: '1.41',
    });
    // But not where the daemon has none.
    expect(chooseApiBuilder({ DOCKER_BUILDKIT: '1' }, { ...linux, apiVersion: '1.30' }).buildkit).toBe(false);
  });

  it('builds with the legacy builder where BuildKit falls short, unless secrets need BuildKit', () => {
    const buildkit = chooseApiBuilder({}, linux);
    expect(builderForBuild(buildkit, {})).toBe(buildkit);
    expect(builderForBuild(buildkit, { shmSize: 1024 })).toEqual({
      buildkit: false,
      why: 'shm_size is set, which BuildKit in Docker before 23 ignores',
    });
    expect(builderForBuild(buildkit, {}, ['10.0.0.5:5000']).why).toBe(
      "it pulls from 10.0.0.5:5000, which BuildKit in Docker reaches without the daemon's insecure-registries and certs.d",
    );
    // Docker 23 (API 1.42) and later pass shm_size to BuildKit.
    expect(builderForBuild({ ...buildkit, apiVersion: '1.43' }, { shmSize: 1024 }).buildkit).toBe(true);
    expect(() => builderForBuild(buildkit, { shmSize: 1024, secrets: { a: { env: 'A' } } })).toThrow(
      /cannot build this with its secrets: they need BuildKit, and shm_size is set/,
    );
  });

  it('finds the registries the daemon trusts in a way BuildKit does not: insecure, or a CA in certs.d', async () => {
    const certs = await import('node:fs').then(({ mkdtempSync, mkdirSync }) => {
      const dir = mkdtempSync('/tmp/zenbuild-certs-');
      mkdirSync(`${dir}/ca.example:5000`);
      return dir;
    });
    const insecure = async (host: string) => host.startsWith('10.') || host.startsWith('127.');
    expect(
      await registriesBuildkitMistrusts(
        ['127.0.0.1:5000', '10.0.0.5:5000', 'ca.example:5000', 'registry.example.com'],
        insecure,
        certs,
      ),
    ).toEqual(['10.0.0.5:5000', 'ca.example:5000']);
  });
});
