import { expect, it } from 'vitest';
import { buildRequest, runContext, unique } from '../helpers.js';
import type { BuilderSuite } from './suite.js';

/** Builds with the options honoured inside the image; a local builder keeps an image local without a registry. */
export function builderBuildCases({ name, harness, registries, openRegistry, remote }: BuilderSuite): void {
  const { open } = registries;
  it('honours the build options inside the image: build args, target, extra hosts, shm size', async () => {
    const { builder, baseImage, run } = harness();
    const imageName = `${open}/zenbuild-test/${name}-options:${unique()}`;
    const dockerfile = [
      `FROM ${baseImage} AS probe`,
      'ARG STAGE_NOTE',
      `RUN echo "$STAGE_NOTE" > /note && df -k /dev/shm | tail -n 1 > /shm && grep db.internal /etc/hosts > /hosts && echo ${unique()}`,
      `FROM ${baseImage} AS final`,
      'RUN echo final > /stage',
    ].join('\n');
    const built = await builder.build(
      await buildRequest(imageName, dockerfile, {
        registry: openRegistry(),
        options: {
          buildArgs: { STAGE_NOTE: 'from the probe stage' },
          target: 'probe',
          extraHosts: { 'db.internal': '10.1.2.3' },
          shmSize: 32 * 1024 * 1024,
        },
      }),
      runContext(),
    );
    const [note, shm, hosts, stage] = run(built.image, [
      'sh',
      '-c',
      'cat /note /shm /hosts; test -e /stage || echo none',
    ])
      .trim()
      .split('\n');
    expect(note).toBe('from the probe stage');
    expect(shm?.split(/\s+/).slice(1, 2)).toEqual(['32768']);
    expect(hosts?.split(/\s+/)).toEqual(['10.1.2.3', 'db.internal']);
    expect(stage).toBe('none');
  });

  if (!remote) {
    it('keeps the image local without a registry', async () => {
      const { builder, baseImage, run } = harness();
      const imageName = `zenbuild-test/${name}-local:${unique()}`;
      const built = await builder.build(
        await buildRequest(imageName, `FROM ${baseImage}\nRUN echo local > /where\n`),
        runContext(),
      );
      expect(built).toMatchObject({ image: imageName, tag: imageName.split(':').pop() });
      expect(built.digest).toBeUndefined();
      expect(run(imageName, ['cat', '/where'])).toBe('local\n');
    });
  }
}
