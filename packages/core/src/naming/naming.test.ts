import { describe, expect, it } from 'vitest';
import { errorOf } from '../__fixtures__/pipeline.js';
import { belongsToRegistry, imageTag, sanitizeTag, targetImageName, targetRepository } from './naming.js';
import { parseImageReference, repositoryOf } from './reference.js';

describe("tag sanitising (ZenML's string_utils.sanitize_tag)", () => {
  it('drops characters outside [A-Za-z0-9_.-]', () => {
    expect(sanitizeTag('my pipeline/step:1+x')).toBe('mypipelinestep1x');
  });
  it('replaces a leading - or . with _', () => {
    expect(sanitizeTag('-x')).toBe('_x');
    expect(sanitizeTag('.x')).toBe('_x');
  });
  it('refuses an empty tag', () => {
    expect(errorOf(() => sanitizeTag('///')).message).toMatch(/cannot be empty/);
  });
  it('cuts at 128 characters', () => {
    expect(sanitizeTag('a'.repeat(300))).toHaveLength(128);
  });
});

describe('image names', () => {
  it('derives tags from pipeline, step and key', () => {
    expect(imageTag({ pipeline: 'training', key: 'orchestrator' })).toBe('training-orchestrator');
    expect(imageTag({ pipeline: 'simple ml', step: 'trainer', key: 'orchestrator' })).toBe(
      'simpleml-trainer-orchestrator',
    );
  });
  it('uses image_tag verbatim', () => {
    expect(imageTag({ pipeline: 'p', key: 'k', imageTag: 'v1.0' })).toBe('v1.0');
  });
  it('picks target_repository, then the registry default, then zenml', () => {
    expect(targetRepository('team/a', 'reg-default')).toBe('team/a');
    expect(targetRepository(undefined, 'reg-default')).toBe('reg-default');
    expect(targetRepository()).toBe('zenml');
  });
  it('prefixes the registry URI without doubled slashes', () => {
    expect(targetImageName({ registryUri: '127.0.0.1:5000/', repository: 'zenml', tag: 't' })).toBe(
      '127.0.0.1:5000/zenml:t',
    );
    expect(targetImageName({ repository: 'zenml', tag: 't' })).toBe('zenml:t');
  });
});

describe('registry membership by host and path segments', () => {
  it('accepts images under the registry', () => {
    expect(belongsToRegistry('gcr.io/proj/zenml:1', 'gcr.io/proj')).toBe(true);
    expect(belongsToRegistry('127.0.0.1:5000/zenml:t', '127.0.0.1:5000')).toBe(true);
    expect(belongsToRegistry('docker.io/me/img:1', 'docker.io/me')).toBe(true);
  });
  it("rejects a registry whose path is only a string prefix (ZenML's plain prefix test accepts it)", () => {
    expect(belongsToRegistry('gcr.io/project2/zenml:1', 'gcr.io/proj')).toBe(false);
    expect(belongsToRegistry('127.0.0.1:50001/x:1', '127.0.0.1:5000')).toBe(false);
  });
  it('rejects the registry itself and other hosts', () => {
    expect(belongsToRegistry('gcr.io/proj', 'gcr.io/proj')).toBe(false);
    expect(belongsToRegistry('quay.io/proj/x', 'gcr.io/proj')).toBe(false);
  });
});

describe('image references', () => {
  it('splits domain, path, tag and digest', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(parseImageReference(`localhost:5000/team/img:1.0@${digest}`)).toEqual({
      domain: 'localhost:5000',
      path: 'team/img',
      tag: '1.0',
      digest,
    });
    expect(parseImageReference('team/img')).toEqual({ path: 'team/img' });
    expect(parseImageReference('python:3.11-slim')).toEqual({ path: 'python', tag: '3.11-slim' });
  });
  it('rejects upper-case repositories and spaces', () => {
    expect(parseImageReference('Team/img')).toBeUndefined();
    expect(parseImageReference('a b')).toBeUndefined();
  });
  it('gives the repository of a reference', () => {
    expect(repositoryOf('host:5000/a/b:tag')).toBe('host:5000/a/b');
  });
});

describe('long pipeline names', () => {
  const long = `p${'x'.repeat(140)}`;
  it('keep the step and key whole and stay within 128 characters', () => {
    const tag = imageTag({ pipeline: long, step: 'trainer', key: 'orchestrator' });
    expect(tag).toHaveLength(128);
    expect(tag).toMatch(/^px+-[0-9a-f]{8}-trainer-orchestrator$/);
  });
  it('give distinct tags for distinct steps and pipelines, where cutting at 128 made them equal', () => {
    const tags = [
      imageTag({ pipeline: long, key: 'orchestrator' }),
      imageTag({ pipeline: long, step: 'trainer', key: 'orchestrator' }),
      imageTag({ pipeline: long, step: 'evaluator', key: 'orchestrator' }),
      imageTag({ pipeline: `${long}a`, key: 'orchestrator' }),
      imageTag({ pipeline: `${long}b`, key: 'orchestrator' }),
    ];
    expect(new Set(tags).size).toBe(tags.length);
    expect(sanitizeTag(`${long}a-orchestrator`)).toBe(sanitizeTag(`${long}b-orchestrator`));
  });
  it('leave a name that fits as ZenML writes it', () => {
    const fits = 'x'.repeat(100);
    expect(imageTag({ pipeline: fits, step: 's', key: 'orchestrator' })).toBe(`${fits}-s-orchestrator`);
  });
  it('cut a very long step name from its start, keeping the key', () => {
    const tag = imageTag({ pipeline: 'p', step: 's'.repeat(200), key: 'orchestrator' });
    expect(tag.length).toBeLessThanOrEqual(128);
    expect(tag).toMatch(/^p-[0-9a-f]{8}-s+-orchestrator$/);
  });
});
