import { type CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  BatchGetBuildsCommand,
  type BatchGetBuildsCommandOutput,
  type Build,
  type CodeBuildClient,
} from '@aws-sdk/client-codebuild';
import type { LogTail, RunContext } from '@zenbuild/core/backend';
import { awsError } from './errors.js';

export const TERMINAL_STATUSES = new Set(['SUCCEEDED', 'FAILED', 'FAULT', 'TIMED_OUT', 'STOPPED']);

export interface FollowOptions {
  codebuild: CodeBuildClient;
  logs: CloudWatchLogsClient;
  buildId: string;
  image: string;
  run: RunContext;
  /** Resolves when the build ended; rejects with the signal's reason on abort or timeout. */
  deadline: AbortSignal;
  poll?: { initialMs: number; maxMs: number };
  /** Keeps the last log lines, for the failure message. */
  tail: LogTail;
}

/**
 * Waits for a CodeBuild build: polls BatchGetBuilds with backoff, reports phase changes, and streams
 * the build's CloudWatch Logs lines while it runs. Returns the finished build; throws if the deadline
 * signal fires first (the caller stops the build).
 */
export async function followBuild(options: FollowOptions): Promise<Build> {
  const { codebuild, buildId, image, run } = options;
  const poll = options.poll ?? { initialMs: 1000, maxMs: 5000 };
  const logReader = new LogReader(options.logs, image, run, options.tail);
  let phasesSeen = 0;
  let delay = poll.initialMs;
  for (;;) {
    const build = await getBuild(codebuild, buildId, options.deadline);
    // Every phase the build went through since the last poll, even the short ones between two polls.
    for (const entered of (build.phases ?? []).slice(phasesSeen)) {
      if (entered.phaseType)
        run.emit({ type: 'phase', image, phase: `codebuild ${entered.phaseType.toLowerCase()}` });
    }
    phasesSeen = Math.max(phasesSeen, build.phases?.length ?? 0);
    if (build.logs?.groupName && build.logs.streamName) {
      await logReader.read(build.logs.groupName, build.logs.streamName, options.deadline);
    }
    if (build.buildStatus && TERMINAL_STATUSES.has(build.buildStatus)) {
      // CloudWatch can lag behind the status; one more read, to the end, picks up the last lines.
      if (build.logs?.groupName && build.logs.streamName) {
        await logReader.read(build.logs.groupName, build.logs.streamName, options.deadline, true);
      }
      return build;
    }
    await sleep(delay, options.deadline);
    delay = Math.min(poll.maxMs, Math.round(delay * 1.5));
  }
}

async function getBuild(codebuild: CodeBuildClient, id: string, signal: AbortSignal): Promise<Build> {
  let reply: BatchGetBuildsCommandOutput;
  try {
    reply = await codebuild.send(new BatchGetBuildsCommand({ ids: [id] }), { abortSignal: signal });
  } catch (error) {
    signal.throwIfAborted();
    throw awsError(error, { action: 'codebuild:BatchGetBuilds', resource: `CodeBuild build ${id}` });
  }
  const build = reply.builds?.[0];
  if (!build)
    throw awsError(new Error(`CodeBuild does not know build ${id}`), {
      action: 'codebuild:BatchGetBuilds',
      resource: `CodeBuild build ${id}`,
    });
  return build;
}

/** Pages through one log stream from where it stopped, keeping the last lines. */
class LogReader {
  #token: string | undefined;
  #missingStreamWarned = false;

  constructor(
    private readonly logs: CloudWatchLogsClient,
    private readonly image: string,
    private readonly run: RunContext,
    private readonly tail: LogTail,
  ) {}

  /**
   * Reads on from the last token. While the build runs, an empty page ends the read (the next poll goes
   * on); the final read pages on until the token comes back unchanged, because "partially full or empty
   * pages don't necessarily mean that pagination is finished" (GetLogEvents, API reference): the failing
   * command's output and CodeBuild's COMMAND_EXECUTION_ERROR come last. Bounded, so a service that never
   * repeats its token cannot hold the build's result.
   */
  async read(group: string, stream: string, signal: AbortSignal, toTheEnd = false): Promise<void> {
    for (let pages = 0; pages < MAX_PAGES_PER_READ; pages++) {
      let reply: { events?: { message?: string }[]; nextForwardToken?: string };
      try {
        reply = await this.logs.send(
          new GetLogEventsCommand({
            logGroupName: group,
            logStreamName: stream,
            startFromHead: true,
            ...(this.#token ? { nextToken: this.#token } : {}),
          }),
          { abortSignal: signal },
        );
      } catch (error) {
        signal.throwIfAborted();
        // The stream appears a little after the build starts; logs are a convenience, the status is not.
        if ((error as { name?: string }).name === 'ResourceNotFoundException') return;
        if (!this.#missingStreamWarned) {
          this.#missingStreamWarned = true;
          this.run.emit({
            type: 'warning',
            image: this.image,
            message: `Cannot read the build log ${group}/${stream} (${(error as Error).message}); the build is still followed. The role needs logs:GetLogEvents.`,
          });
        }
        return;
      }
      for (const event of reply.events ?? []) {
        for (const line of (event.message ?? '').replace(/\n$/, '').split('\n')) {
          this.run.emit({ type: 'log', image: this.image, stream: 'stdout', line });
          this.tail.push(line);
        }
      }
      // CloudWatch returns the same token when there is nothing more (yet).
      if (!reply.nextForwardToken || reply.nextForwardToken === this.#token) return;
      this.#token = reply.nextForwardToken;
      if ((reply.events ?? []).length === 0 && !toTheEnd) return;
    }
  }
}

const MAX_PAGES_PER_READ = 200;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
