import { spawnSync } from 'node:child_process';
import { archiveContext, defaultStack, loadPipelineConfig, planBuilds, walkContext } from '@zenbuild/core';
import { scratchDir } from './measure.mjs';

/** Runs a command to its end and returns its wall time in ms; a failure stops the benchmark. */
export function time(command, args, options = {}) {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 64 << 20,
    ...options,
  });
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** The exact context zenbuild sends for a pipeline file, unpacked, so the engine CLI builds the very same files. */
export async function materialise(pipelineFile) {
  const pipeline = await loadPipelineConfig(pipelineFile, { env: {} });
  const plan = planBuilds({ pipeline, stack: defaultStack(), env: {} });
  const walked = await walkContext(plan.builds[0].context);
  const out = scratchDir('zenbuild-bench-ctx-');
  const chunks = [];
  for await (const chunk of archiveContext(walked.entries, 'tar')) chunks.push(chunk);
  spawnSync('tar', ['-x', '-C', out], { input: Buffer.concat(chunks) });
  return out;
}
