import { expect, it } from 'vitest';
import { buildRequest, runContext, unique } from '../helpers.js';
import type { EngineSuite } from './suite.js';

/** Builds from core's context with the build options, streams output, and the image runs. */
export function engineBuildCases({ name, harness }: EngineSuite): void {
  it('is available and says why', async () => {
    const availability = await harness().engine.check();
    expect(availability.available).toBe(true);
    expect(availability.reason.length).toBeGreaterThan(10);
  });

  it('builds from core’s context stream with build args and labels, streams the output, and the image runs', async () => {
    const { engine, baseImage, run } = harness();
    const image = `zenbuild-test/${name}-build:${unique()}`;
    const context = runContext();
    const result = await engine.build(
      await buildRequest(
        image,
        `FROM ${baseImage}\nARG GREETING\nWORKDIR /app\nCOPY app.py .\nRUN echo "$GREETING" > /app/greeting && echo step-output\n`,
        {
          options: { buildArgs: { GREETING: 'hi there' }, labels: { team: 'ml' } },
        },
      ),
      context,
    );
    expect(result.imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(run(image, ['cat', '/app/greeting', '/app/app.py'])).toBe(
      'hi there\nprint("hello from the context")\n',
    );
    expect(context.events.some((e) => e.type === 'log' && e.line.includes('step-output'))).toBe(true);
  });

  it('honours target, shm_size and extra_hosts inside the build, and network none', async () => {
    const { engine, baseImage, run } = harness();
    const image = `zenbuild-test/${name}-options:${unique()}`;
    await engine.build(
      await buildRequest(
        image,
        [
          `FROM ${baseImage} AS probe`,
          `RUN echo ${unique()} && df -k /dev/shm | tail -n 1 > /shm && grep db.internal /etc/hosts > /hosts`,
          `FROM ${baseImage} AS final`,
          'RUN echo final > /stage',
        ].join('\n'),
        {
          options: {
            target: 'probe',
            shmSize: 32 * 1024 * 1024,
            extraHosts: { 'db.internal': '10.1.2.3' },
          },
        },
      ),
      runContext(),
    );
    const [shm, hosts, stage] = run(image, ['sh', '-c', 'cat /shm /hosts; test -e /stage || echo none'])
      .trim()
      .split('\n');
    expect(shm?.split(/\s+/).slice(1, 2)).toEqual(['32768']); // 1K blocks of /dev/shm
    expect(hosts?.split(/\s+/)).toEqual(['10.1.2.3', 'db.internal']);
    expect(stage).toBe('none'); // the build stopped at the target stage

    // Podman makes no /etc/hosts without a network, so network none is its own build.
    const isolated = `zenbuild-test/${name}-no-network:${unique()}`;
    await engine.build(
      await buildRequest(isolated, `FROM ${baseImage}\nRUN echo ${unique()} && ls /sys/class/net > /nets\n`, {
        options: { network: 'none' },
      }),
      runContext(),
    );
    expect(run(isolated, ['cat', '/nets'])).toBe('lo\n');
  });
}
