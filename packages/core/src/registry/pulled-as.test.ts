import { describe, expect, it } from 'vitest';
import { pulledAs } from './pulled-as.js';

const digest = `sha256:${'a'.repeat(64)}`;

describe('pulledAs', () => {
  it('is true for a digest of the same repository, however Docker Hub names are spelt', () => {
    expect(pulledAs('python:3.11-slim', [`python@${digest}`])).toBe(true);
    expect(pulledAs('python:3.11-slim', [`docker.io/library/python@${digest}`])).toBe(true);
    expect(pulledAs('127.0.0.1:5000/team/base:1', [`127.0.0.1:5000/team/base@${digest}`])).toBe(true);
  });

  it('is false when the digests name other repositories only (the image was tagged and pushed elsewhere)', () => {
    expect(pulledAs('zenbuild-test/busybox:1.35', [`127.0.0.1:5000/zenbuild-test/busybox@${digest}`])).toBe(
      false,
    );
    expect(pulledAs('localhost/base:1', [`127.0.0.1:5000/x@${digest}`, `other/base@${digest}`])).toBe(false);
    expect(pulledAs('base:1', [])).toBe(false);
  });
});
