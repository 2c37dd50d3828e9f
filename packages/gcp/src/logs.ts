import type { Storage } from '@google-cloud/storage';
import type { LogTail, RunContext } from '@zenbuild/core/backend';

/**
 * Follows a build's log object in its logs bucket (`log-<build id>.txt`, which Cloud Build appends
 * to while the build runs): each read fetches only the bytes after the last one seen.
 */
export class GcsLogFollower {
  #offset = 0;
  #partial = '';
  #warned = false;
  readonly #started = Date.now();

  constructor(
    private readonly storage: Storage,
    private readonly bucket: string,
    private readonly object: string,
    private readonly image: string,
    private readonly run: RunContext,
    /** Keeps the last lines, for the failure message. */
    private readonly tail: LogTail,
    /** How long a missing object counts as "not written yet" before it is worth a warning. */
    private readonly missingGraceMs = 120_000,
  ) {}

  async read(final = false): Promise<void> {
    const file = this.storage.bucket(this.bucket).file(this.object);
    try {
      const [metadata] = await file.getMetadata();
      const size = Number(metadata.size ?? 0);
      if (size > this.#offset) {
        const [chunk] = await file.download({ start: this.#offset, end: size - 1, validation: false });
        this.#offset += chunk.length;
        this.#emit(this.#partial + chunk.toString('utf8'));
      }
    } catch (error) {
      const where = `gs://${this.bucket}/${this.object}`;
      if ((error as { code?: number }).code !== 404) {
        this.#warn(
          `Cannot read the build log ${where} (${(error as Error).message}); the build is still followed. The account needs storage.objects.get on the logs bucket.`,
        );
      } else if (final || this.#offset > 0 || Date.now() - this.#started > this.missingGraceMs) {
        // The object appears once the build writes its first line. Missing after the build wrote some,
        // after the build ended, or long after it started, it is in another place than zenbuild reads.
        this.#warn(
          `The build log ${where} does not exist (404)${final ? ' although the build has ended' : ''}, so its lines are not shown: check the image builder's \`logs_bucket\` and \`storage_endpoint\`, and the build's \`logging\` option. The build itself is still followed.`,
        );
      }
    }
    if (final && this.#partial) this.#emit(`${this.#partial}\n`);
  }

  #warn(message: string): void {
    if (this.#warned) return;
    this.#warned = true;
    this.run.emit({ type: 'warning', image: this.image, message });
  }

  #emit(text: string): void {
    const lines = text.split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines) {
      this.run.emit({ type: 'log', image: this.image, stream: 'stdout', line });
      this.tail.push(line);
    }
  }
}
