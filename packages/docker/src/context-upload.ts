import { Readable, type Writable } from 'node:stream';
import {
  type BuildContextSource,
  ByteProgress,
  type ByteProgressListener,
  byteProgressEvents,
  ChunkPool,
  type RunContext,
} from '@zenbuild/core/backend';

/** The upload as progress events of `image`: how much has been sent, and with `total` once all of it. */
export function sentProgress(image: string, run: RunContext): ByteProgressListener {
  return byteProgressEvents(image, run, { verb: 'sent' });
}

/**
 * The build context as dockerode takes it: a stream that docker-modem pipes into the build request.
 * Piped, it writes the archive into the request itself, with a write callback per chunk, and the file
 * memory goes back to a pool once the socket has sent it: a 500 MB upload then runs 2 full garbage
 * collections instead of about 25 (why: ChunkPool; figures: bench/README.md). Read any other way it is
 * the plain archive, so a docker-modem that stopped piping would still send the right bytes.
 */
export class ContextUpload extends Readable {
  readonly pool = new ChunkPool();
  readonly #context: BuildContextSource;
  readonly #onSent: ByteProgressListener | undefined;
  #plain: AsyncIterator<Buffer> | undefined;
  #piped = false;

  /**
   * `onSent` hears how many bytes the destination has written, at most every 250 ms, and once
   * more with `done` when all of them are (when piped; the docker CLI prints the same as it sends).
   */
  constructor(context: BuildContextSource, onSent?: ByteProgressListener) {
    super();
    this.#context = context;
    this.#onSent = onSent;
  }

  override pipe<T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T {
    if (this.#piped || this.#plain || options?.end === false) return super.pipe(destination, options);
    this.#piped = true;
    this.#send(destination as unknown as Writable);
    return destination;
  }

  override _read(): void {
    this.#plain ??= (this.#context.tar() as Readable)[Symbol.asyncIterator]();
    this.#plain.next().then(
      ({ done, value }) => this.push(done ? null : value),
      (error: unknown) => this.destroy(error as Error),
    );
  }

  #send(destination: Writable): void {
    const tar = this.#context.tar({ pool: this.pool }) as Readable;
    const sent = new ByteProgress(this.#onSent);
    const sentOne = (chunk: Buffer) => {
      this.pool.release(chunk);
      sent.add(chunk.length);
    };
    // 'finish': every chunk's write callback has run.
    destination.once('finish', () => sent.finish());
    tar.on('data', (chunk: Buffer) => {
      // Released only once written: until then the socket may still read it. A failed write gives
      // nothing back; the upload is over then.
      const written = destination.write(chunk, (error) => error || sentOne(chunk));
      if (!written) {
        tar.pause();
        destination.once('drain', () => tar.resume());
      }
    });
    // Closed once everything is handed over, as a piped stream ends, so that whoever waits for it is told.
    tar.once('end', () => {
      destination.end();
      this.destroy();
    });
    // docker-modem destroys the request with this error, which fails the build with it.
    tar.once('error', (error) => this.destroy(error));
    // The daemon answered early, or the build was cancelled: stop reading files.
    destination.once('close', () => {
      tar.destroy();
      this.destroy();
    });
  }
}
