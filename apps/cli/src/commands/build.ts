import {
  buildPipeline,
  isZenbuildError,
  type PipelineBuildRecord,
  type PipelineEvent,
  removePrivateTempDirsSync,
  type StoreChoice,
} from '@zenbuild/core';
import { reportError } from '../errors.js';
import type { Io } from '../io.js';
import { createProgress, type ProgressMode, type ProgressRenderer } from '../progress.js';
import { type PlanOptions, printNotice } from './plan.js';

export interface BuildOptions extends PlanOptions {
  progress?: ProgressMode;
  /** False with `--no-reuse`. */
  reuse?: boolean;
  /** False with `--no-installer-cache`. */
  installerCache?: boolean;
  build?: string;
  concurrency?: number;
  /** `--store local|stack`. */
  store?: StoreChoice;
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
export const EXIT_ON_SIGTERM = 143;
const EXIT_ON_SIGINT = 130;

/**
 * `zenbuild build`: core's buildPipeline, with the CLI's part around it: the arguments, Ctrl-C and
 * SIGTERM (they abort the build), the rendering of its events, and the exit code.
 */
export async function buildCommand(io: Io, pipelineFile: string, options: BuildOptions): Promise<number> {
  const controller = new AbortController();
  // SIGTERM too: it is how CI cancels a job and how `timeout` ends one, and a remote build left
  // running would go on costing. A second signal forces: zenbuild exits at once, removing its temp
  // files with credentials on the way out, and its watchdog stops the engine CLIs it ran.
  let stoppedBy: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    stoppedBy = signal;
    io.err(`Stopping the running builds (${signal === 'SIGINT' ? 'Ctrl-C' : signal} again to force)...`);
    controller.abort();
    removeSignalHandlers();
    for (const again of STOP_SIGNALS) process.once(again, onForce);
  };
  const onForce = (signal: NodeJS.Signals) => {
    removePrivateTempDirsSync();
    process.exit(signal === 'SIGTERM' ? EXIT_ON_SIGTERM : EXIT_ON_SIGINT);
  };
  const removeSignalHandlers = () => {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  };

  // Build events are rendered by the progress view, made when the builds start (it knows their ids
  // then); what comes before is printed as warnings and messages.
  let progress: ProgressRenderer | undefined;
  const onEvent = async (event: PipelineEvent) => {
    if (event.type === 'notice') return printNotice(io, event);
    if (event.type === 'reuse') return io.err(`Reusing build ${event.record.id}: ${event.reason}`);
    if (event.type === 'code') return io.err(event.message);
    if (event.type === 'building') {
      if (event.builds.length > 0) io.err(`Building ${event.builds.length} image(s): ${event.reason}`);
      progress = await createProgress(
        io,
        options.progress ?? 'auto',
        new Map(event.builds.map((b) => [b.imageName, b.id])),
      );
      // Only the builds themselves stop on the first signal; before them, planning runs to its end.
      for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
      return;
    }
    if (progress) progress.emit(event);
    else if (event.type === 'warning') io.err(`warning: ${event.message}`);
  };

  let record: PipelineBuildRecord;
  try {
    ({ record } = await buildPipeline({
      pipeline: pipelineFile,
      ...(options.stack !== undefined ? { stack: options.stack } : {}),
      ...(options.name !== undefined ? { name: options.name } : {}),
      ...(options.integrations !== undefined ? { integrations: options.integrations } : {}),
      ...(options.build !== undefined ? { buildId: options.build } : {}),
      ...(options.store !== undefined ? { storeChoice: options.store } : {}),
      env: io.env,
      secrets: io.secrets,
      reuse: options.reuse !== false,
      ...(options.installerCache === false ? { installerCache: false } : {}),
      concurrency: options.concurrency ?? 2,
      signal: controller.signal,
      onEvent,
    }));
  } catch (error) {
    // Cancelled by SIGTERM: the exit code says so (128 + 15), as a shell reports a terminated job.
    if (stoppedBy === 'SIGTERM' && isZenbuildError(error) && error.code === 'CANCELLED') {
      reportError(io, error, Boolean(options.json));
      return EXIT_ON_SIGTERM;
    }
    throw error;
  } finally {
    progress?.done();
    removeSignalHandlers();
    for (const signal of STOP_SIGNALS) process.off(signal, onForce);
  }
  return printRecord(io, record, options.json);
}

function printRecord(io: Io, record: PipelineBuildRecord, json: boolean | undefined): number {
  if (json) {
    io.json(record);
    return 0;
  }
  const width = Math.max(...Object.keys(record.images).map((k) => k.length), 3);
  io.out(
    [
      `${record.reused ? 'Reused' : 'Built'} pipeline \`${record.pipeline}\` on stack \`${record.stack}\`: build ${record.id}${record.reused ? '' : ` in ${(record.durationMs / 1000).toFixed(1)} s`}`,
      ...Object.entries(record.images).map(([key, image]) => `  ${key.padEnd(width)}  ${image.image}`),
    ].join('\n'),
  );
  return 0;
}
