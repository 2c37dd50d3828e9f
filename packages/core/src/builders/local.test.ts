import { describe, expect, it } from 'vitest';
import type { BuildRequest, ContainerEngine } from '../contracts.js';
import { LocalImageBuilder } from './local.js';

// The pull decision alone: which `pull` the engine is handed for the if-not-local policy. What each
// engine then does with it is proven against the real engines in test/conformance/.
function engineWith(
  local: { id: string; repoDigests: readonly string[] } | undefined,
  pullsIfNewer?: boolean,
) {
  const seen: Array<boolean | undefined> = [];
  const engine = {
    name: 'docker',
    ...(pullsIfNewer ? { pullsIfNewer } : {}),
    localImage: async (image: string) => (image === 'zenml:p' ? { id: 'sha256:x', repoDigests: [] } : local),
    build: async (request: BuildRequest) => {
      seen.push(request.options.pull);
      return { imageId: 'sha256:x' };
    },
  } as unknown as ContainerEngine;
  return { engine, seen };
}

const request = (parentImage: string) =>
  ({
    imageName: 'zenml:p',
    dockerfile: 'Dockerfile',
    options: {},
    parentImage,
    pullPolicy: 'if-not-local',
  }) as unknown as BuildRequest;
const run = { signal: new AbortController().signal, emit() {} };
const digest = `sha256:${'a'.repeat(64)}`;

describe('the if-not-local pull policy', () => {
  it.each([
    ['a parent the engine does not have', undefined, false, true],
    ['a parent only built or tagged here', { id: 'i', repoDigests: [] }, false, false],
    [
      'a parent with a digest for another name only',
      { id: 'i', repoDigests: [`reg:5000/x@${digest}`] },
      false,
      false,
    ],
    ['a parent pulled from its registry', { id: 'i', repoDigests: [`team/base@${digest}`] }, false, true],
    [
      'the same on an engine that pulls what is newer',
      { id: 'i', repoDigests: [`team/base@${digest}`] },
      true,
      undefined,
    ],
    ['a local-only parent on that engine', { id: 'i', repoDigests: [] }, true, false],
  ] as const)('%s', async (_case, local, pullsIfNewer, expected) => {
    const { engine, seen } = engineWith(local, pullsIfNewer);
    await new LocalImageBuilder(engine).build(request('team/base:1'), run);
    expect(seen).toEqual([expected]);
  });
});

describe('the image a build records', () => {
  it('is refused when its name points at another image after the build', async () => {
    // Another process built the same name while this build ran: its image is not this build's.
    const engine = {
      name: 'docker',
      localImage: async () => ({ id: 'sha256:other', repoDigests: [] }),
      build: async () => ({ imageId: 'sha256:mine' }),
    } as unknown as ContainerEngine;
    const error = await new LocalImageBuilder(engine).build(request('team/base:1'), run).catch((e) => e);
    expect(error.code).toBe('BUILD_FAILED');
    expect(error.message).toMatch(
      /zenml:p no longer names the image this build made \(mine\): it names other/,
    );
  });
});
