import { describe, expect, it } from 'vitest';
import { daemonTreatsAsInsecure } from './insecure-registries.js';

describe('daemonTreatsAsInsecure', () => {
  const config = {
    InsecureRegistryCIDRs: ['127.0.0.0/8', '10.20.0.0/16', 'fd00::/8'],
    IndexConfigs: {
      'docker.io': { Secure: true },
      'registry.lan:5000': { Secure: false },
      '10.20.1.1:443': { Secure: true },
    },
  };
  const noDns = async () => [];

  it('takes an index config under exactly that name first, as dockerd does', async () => {
    expect(await daemonTreatsAsInsecure(config, 'registry.lan:5000', noDns)).toBe(true);
    expect(await daemonTreatsAsInsecure(config, 'registry.lan:5001', noDns)).toBe(false);
    // Secure in its own index config, although its address lies in an insecure CIDR.
    expect(await daemonTreatsAsInsecure(config, '10.20.1.1:443', noDns)).toBe(false);
  });

  it('matches an address, with or without a port, against the insecure CIDRs', async () => {
    expect(await daemonTreatsAsInsecure(config, '10.20.3.4:5000', noDns)).toBe(true);
    expect(await daemonTreatsAsInsecure(config, '10.20.3.4', noDns)).toBe(true);
    expect(await daemonTreatsAsInsecure(config, '10.21.0.1:5000', noDns)).toBe(false);
    expect(await daemonTreatsAsInsecure(config, '[fd00::1]:5000', noDns)).toBe(true);
    expect(await daemonTreatsAsInsecure(config, 'fd00::1', noDns)).toBe(true);
  });

  it('resolves a name and counts it insecure when any of its addresses is in a CIDR', async () => {
    const asked: string[] = [];
    const dns = async (name: string) => {
      asked.push(name);
      return name === 'build.corp' ? ['192.0.2.1', '10.20.9.9'] : ['192.0.2.2'];
    };
    expect(await daemonTreatsAsInsecure(config, 'build.corp:5000', dns)).toBe(true);
    expect(await daemonTreatsAsInsecure(config, 'other.corp', dns)).toBe(false);
    expect(asked).toEqual(['build.corp', 'other.corp']);
    // The real resolver: localhost is loopback, in the daemon's default 127.0.0.0/8.
    expect(await daemonTreatsAsInsecure({ InsecureRegistryCIDRs: ['127.0.0.0/8'] }, 'localhost:5000')).toBe(
      true,
    );
  });

  it('treats nothing as insecure without a registry config, or for a name that does not resolve', async () => {
    expect(await daemonTreatsAsInsecure(undefined, '127.0.0.1:5000')).toBe(false);
    expect(await daemonTreatsAsInsecure({ InsecureRegistryCIDRs: null, IndexConfigs: null }, 'x:1')).toBe(
      false,
    );
    const failing = async () => {
      throw new Error('ENOTFOUND');
    };
    expect(await daemonTreatsAsInsecure(config, 'nowhere.invalid', failing)).toBe(false);
  });
});
