import { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { BuildkitProgress, type StatusResponse } from './buildkit-progress.js';
import type { DaemonMessage } from './daemon-stream.js';

/**
 * POST /build, as dockerode's buildImage sends it but without the session dockerode opens by itself
 * for `version=2` (Auth only, with one credential for every host): zenbuild opens its own.
 */
export function postBuild(
  docker: Docker,
  context: NodeJS.ReadableStream | undefined,
  query: Record<string, unknown>,
  { registryconfig, signal }: { registryconfig: object | undefined; signal: AbortSignal },
): Promise<NodeJS.ReadableStream> {
  return new Promise((resolve, reject) => {
    docker.modem.dial(
      {
        path: '/build?',
        method: 'POST',
        // No context with a session: an empty body (docker-modem would send the query as JSON instead).
        file: context ?? Readable.from([]),
        options: query,
        abortSignal: signal,
        isStream: true,
        ...(registryconfig ? { registryconfig } : {}),
        statusCodes: { 200: true, 500: 'server error' },
      } as never,
      (error: unknown, stream: unknown) => (error ? reject(error) : resolve(stream as NodeJS.ReadableStream)),
    );
  });
}

/** The log lines of a build message; `stream` text may hold several. */
function linesOf(message: DaemonMessage): string[] {
  const text =
    message.stream ?? (message.status ? `${message.id ? `${message.id}: ` : ''}${message.status}` : '');
  return text.split('\n').filter((line) => line.trim() !== '');
}

/**
 * What a build's stream says, message by message: its output as lines (BuildKit's trace rendered as
 * `--progress=plain` prints it, the legacy builder's text as it is), the image id, and the failure.
 */
export class BuildOutput {
  imageId: string | undefined;
  failure: string | undefined;
  readonly #line: (line: string) => void;
  readonly #progress: BuildkitProgress;
  readonly #decode: ((aux: string) => StatusResponse) | undefined;

  constructor(
    line: (line: string) => void,
    warning: (message: string) => void,
    decode?: (aux: string) => StatusResponse,
  ) {
    this.#line = line;
    this.#progress = new BuildkitProgress(line, warning);
    this.#decode = decode;
  }

  handle(message: DaemonMessage): void {
    if (message.id === 'moby.buildkit.trace' && typeof message.aux === 'string' && this.#decode) {
      this.#progress.add(this.#decode(message.aux));
    } else if (message.id === 'moby.image.id' && typeof message.aux === 'object') {
      this.imageId = message.aux.ID;
    } else {
      for (const text of linesOf(message)) this.#line(text);
      if (typeof message.aux === 'object' && message.aux.ID) this.imageId = message.aux.ID;
    }
    if (message.error || message.errorDetail) this.failure = message.errorDetail?.message ?? message.error;
  }
}
