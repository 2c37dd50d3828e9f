import { describe, expect, it } from 'vitest';
import { podmanTreatsAsInsecure } from './insecure-registries.js';

describe('podmanTreatsAsInsecure', () => {
  // The shape `podman info --format '{{json .Registries}}'` prints (podman 4.3).
  const registries = {
    '10.1.2.3:5000': { Prefix: '10.1.2.3:5000', Location: '10.1.2.3:5000', Insecure: true },
    '*.corp.example': { Prefix: '*.corp.example', Location: 'mirror.corp.example', Insecure: true },
    '*.secure.corp.example': { Prefix: '*.secure.corp.example', Insecure: false },
    'quay.io/team': { Prefix: 'quay.io/team', Insecure: true },
    search: ['docker.io'],
  };

  it('takes the entry for exactly that host', () => {
    expect(podmanTreatsAsInsecure(registries, '10.1.2.3:5000')).toBe(true);
    expect(podmanTreatsAsInsecure(registries, '10.1.2.3:5001')).toBe(false);
  });

  it('else the longest matching wildcard', () => {
    expect(podmanTreatsAsInsecure(registries, 'build.corp.example')).toBe(true);
    expect(podmanTreatsAsInsecure(registries, 'a.secure.corp.example')).toBe(false);
    expect(podmanTreatsAsInsecure(registries, 'corp.example')).toBe(false);
  });

  it('does not count an entry for a path under the host, the search list, or nothing at all', () => {
    expect(podmanTreatsAsInsecure(registries, 'quay.io')).toBe(false);
    expect(podmanTreatsAsInsecure(registries, 'docker.io')).toBe(false);
    expect(podmanTreatsAsInsecure(undefined, '10.1.2.3:5000')).toBe(false);
  });
});
