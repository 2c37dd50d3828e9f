import type { BuildRequest, BuiltImage, RunContext } from '../contracts.js';
import { LogTail } from '../engine/output.js';
import { ZenbuildError } from '../errors.js';
import type { ImageTarget } from './remote.js';
import { reportedUpload } from './remote.js';

/** A build the service accepted. */
export interface StartedRemoteBuild {
  id: string;
  /** Where a person reads the build's logs (the service's console). */
  logsUrl: string;
}

/** How a remote build ended, as its service reported it. */
export type RemoteBuildOutcome =
  | { succeeded: true; digest: string | undefined }
  /** `summary` goes after "The <service> build <id> ", e.g. `FAILED: phase BUILD FAILED`. */
  | { succeeded: false; summary: string; hint?: string };

/** What one cloud build service does; runRemoteBuild does the rest the same way for every one. */
export interface RemoteBuildService<Started extends StartedRemoteBuild = StartedRemoteBuild> {
  /** The service's name in messages: `CodeBuild`, `Cloud Build`. */
  readonly service: string;
  /** The package whose errors these are. */
  readonly backend: string;
  /** How the service's API ends a build early: CodeBuild stops, Cloud Build cancels. */
  readonly stopVerb: 'stop' | 'cancel';
  /** Uploads the context once (content-addressed): where it goes, and the upload itself. */
  readonly upload: {
    url: string;
    store: string;
    put(onProgress: (bytes: number) => void): Promise<{ uploaded: boolean; bytes?: number }>;
  };
  start(): Promise<Started>;
  /**
   * Waits for the build to end, emitting its log lines and keeping the last ones in `tail`. Rejects with
   * the deadline's reason when it fires first (runRemoteBuild then stops the build).
   */
  follow(started: Started, deadline: AbortSignal, tail: LogTail): Promise<RemoteBuildOutcome>;
  stop(started: Started): Promise<void>;
  /** Why a successful build gave no digest, after "succeeded but ". */
  readonly noDigest: string;
}

export interface RemoteBuildOptions {
  /** The client-side limit for the whole build, after which it is stopped. */
  timeoutMs: number;
  /** Where the image goes (imageTarget). */
  target: ImageTarget;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * The lifecycle every cloud builder shares: upload the context once, start the build, follow it under
 * the run's signal and the timeout, stop it on abort or timeout, check the digest, and on failure write
 * the message with the last log lines. A cloud backend supplies only its service's calls.
 */
export async function runRemoteBuild<Started extends StartedRemoteBuild>(
  request: BuildRequest,
  run: RunContext,
  service: RemoteBuildService<Started>,
  options: RemoteBuildOptions,
): Promise<BuiltImage> {
  const image = request.imageName;
  await reportedUpload(run, image, service.upload, service.upload.put);
  const started = await service.start();
  const { id, logsUrl } = started;
  const details = { remoteBuildId: id, logsUrl };
  run.emit({
    type: 'phase',
    image,
    phase: `${service.service.toLowerCase()} started`,
    detail: `${id} ${logsUrl}`,
  });

  const deadline = AbortSignal.any([run.signal, AbortSignal.timeout(options.timeoutMs)]);
  const tail = new LogTail();
  let outcome: RemoteBuildOutcome;
  try {
    outcome = await service.follow(started, deadline, tail);
  } catch (error) {
    if (!deadline.aborted) throw error;
    await stopQuietly(service, started, run, image);
    const done = service.stopVerb === 'stop' ? 'stopped' : 'cancelled';
    if (run.signal.aborted) {
      throw new ZenbuildError('CANCELLED', `The ${service.service} build ${id} was ${done}.`, {
        backend: service.backend,
        details,
      });
    }
    throw new ZenbuildError(
      'BUILD_FAILED',
      `The ${service.service} build ${id} did not finish in time and was ${done}.`,
      { backend: service.backend, details },
    );
  }
  if (!outcome.succeeded) {
    throw new ZenbuildError(
      'BUILD_FAILED',
      `The ${service.service} build ${id} ${outcome.summary}.${outcome.hint ?? ''}${tail.block}\nLogs: ${logsUrl}`,
      { backend: service.backend, details: { ...details, stderrTail: tail.text } },
    );
  }
  const { digest } = outcome;
  if (!digest || !DIGEST.test(digest)) {
    throw new ZenbuildError(
      'BUILD_FAILED',
      `The ${service.service} build ${id} succeeded but ${service.noDigest}. Logs: ${logsUrl}`,
      { backend: service.backend, details },
    );
  }
  const { repository, tag } = options.target;
  return { image: `${repository}@${digest}`, digest, tag, logsUrl, remoteBuildId: id };
}

async function stopQuietly<Started extends StartedRemoteBuild>(
  service: RemoteBuildService<Started>,
  started: Started,
  run: RunContext,
  image: string,
): Promise<void> {
  const verb = service.stopVerb;
  run.emit({ type: 'phase', image, phase: verb === 'stop' ? 'stopping' : 'cancelling', detail: started.id });
  try {
    await service.stop(started);
  } catch (error) {
    const capital = `${verb[0]?.toUpperCase()}${verb.slice(1)}`;
    run.emit({
      type: 'warning',
      image,
      message: `Could not ${verb} ${service.service} build ${started.id}: ${(error as Error).message}. ${capital} it in the console.`,
    });
  }
}
