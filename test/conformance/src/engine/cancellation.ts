import type { ZenbuildError } from '@zenbuild/core';
import { expect, it } from 'vitest';
import { cancelledAfter } from '../cancel.js';
import { runContext, stalledContext, unique } from '../helpers.js';
import type { EngineSuite } from './suite.js';

/** Stops within seconds when the run's signal aborts. */
export function engineCancellationCases({ name, harness }: EngineSuite): void {
  it('stops within seconds when cancelled while the context is still being sent', async () => {
    const { engine } = harness();
    const { error, ms } = await cancelledAfter(300, (signal) =>
      engine.build(
        {
          imageName: `zenbuild-test/${name}-cancelled:${unique()}`,
          context: stalledContext(),
          dockerfile: 'Dockerfile',
          options: {},
        },
        { ...runContext(), signal },
      ),
    );
    expect((error as ZenbuildError).code).toBe('CANCELLED');
    expect(ms).toBeLessThan(3_000);
  });
}
