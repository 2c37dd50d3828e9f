import { describe, expect, it } from 'vitest';
import { nearestName } from './nearest-name.js';

const SETTINGS = ['parent_image', 'dockerfile', 'build_config', 'requirements', 'apt_packages', 'user'];

describe('nearestName', () => {
  it('finds the name a typo meant', () => {
    expect(nearestName('parent_imag', SETTINGS)).toBe('parent_image');
    expect(nearestName('requirement', SETTINGS)).toBe('requirements');
    expect(nearestName('apt_pakages', SETTINGS)).toBe('apt_packages');
    expect(nearestName('docker_file', SETTINGS)).toBe('dockerfile');
    expect(nearestName('nmae', ['name', 'steps', 'settings'])).toBe('name');
  });

  it('ignores case and dashes against underscores', () => {
    expect(nearestName('Build-Config', SETTINGS)).toBe('build_config');
  });

  it('suggests nothing when no name is close', () => {
    expect(nearestName('enable_cache_everywhere', SETTINGS)).toBeUndefined();
    expect(nearestName('usr_name', SETTINGS)).toBeUndefined();
    expect(nearestName('x', [])).toBeUndefined();
  });
});
