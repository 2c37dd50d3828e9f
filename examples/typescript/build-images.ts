// Building a pipeline's images from a program (a CI script, an orchestrator plugin, a notebook) instead
// of the CLI: the same build, reuse and record as `zenbuild build`. Needs @zenbuild/core and the backend
// the stack names (@zenbuild/docker for the default stack).
import { buildPipeline, type PipelineBuildRecord } from '@zenbuild/core';

export async function buildImages(
  pipeline: string,
  options: { stack?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<PipelineBuildRecord> {
  // Ctrl-C stops the running builds; nothing is recorded.
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  try {
    const { record } = await buildPipeline({
      pipeline,
      ...options,
      signal: controller.signal,
      onEvent: (event) => {
        if (event.type === 'notice') console.error(`warning: ${event.message}`);
        if (event.type === 'reuse') console.error(`reusing build ${event.record.id}`);
        if (event.type === 'phase') console.error(`${event.image}: ${event.phase}`);
      },
    });
    return record;
  } finally {
    process.off('SIGINT', stop);
  }
}
