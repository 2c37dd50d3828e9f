import { describe, expect, it } from 'vitest';
import { isPlainHttpRegistry } from './plain-http.js';

describe('isPlainHttpRegistry', () => {
  it.each([
    'localhost',
    'localhost:5000',
    'LOCALHOST:5000',
    '127.0.0.1:5000',
    '127.1.2.3',
    '[::1]:5000',
    '[::1]',
    '[::ffff:127.0.0.1]:5000',
    '[::ffff:7f00:1]:5000',
  ])('treats the loopback host %s as plain http, as Docker does', (host) => {
    expect(isPlainHttpRegistry(host, {})).toBe(true);
  });

  it.each([
    'registry.example.com',
    'registry.example.com:5000',
    '10.0.0.1:5000',
    'localhost.example.com',
    '127.0.0.1.example.com',
    '[::2]:5000',
    '[::ffff:10.0.0.1]:5000',
  ])('speaks https to %s', (host) => {
    expect(isPlainHttpRegistry(host, {})).toBe(false);
  });

  it('adds the hosts of ZENBUILD_INSECURE_REGISTRIES, matched with their port', () => {
    const env = { ZENBUILD_INSECURE_REGISTRIES: 'registry.lan:5000, other.lan' };
    expect(isPlainHttpRegistry('registry.lan:5000', env)).toBe(true);
    expect(isPlainHttpRegistry('other.lan', env)).toBe(true);
    expect(isPlainHttpRegistry('registry.lan', env)).toBe(false);
    expect(isPlainHttpRegistry('registry.lan:5001', env)).toBe(false);
  });
});
