import type { Storage } from '@google-cloud/storage';
import { type RunContext, TAIL_LINES } from '@zenbuild/core';

/**
 * Follows a build's log object in its logs bucket (`log-<build id>.txt`, which Cloud Build appends
 * to while the build runs): each read fetches only the bytes after the last one seen.
 */
export class GcsLogFollower {
  #offset = 0;
  #partial = '';
  #warned = false;
  readonly tail: string[] = [];

  constructor(
    private readonly storage: Storage,
    private readonly bucket: string,
    private readonly object: string,
    private readonly image: string,
    private readonly run: RunContext,
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
      const code = (error as { code?: number }).code;
      // The object appears once the build writes its first line.
      if (code !== 404 && !this.#warned) {
        this.#warned = true;
        this.run.emit({
          type: 'warning',
          image: this.image,
          message: `Cannot read the build log gs://${this.bucket}/${this.object} (${(error as Error).message}); the build is still followed. The account needs storage.objects.get on the logs bucket.`,
        });
      }
    }
    if (final && this.#partial) this.#emit(`${this.#partial}\n`);
  }

  #emit(text: string): void {
    const lines = text.split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines) {
      this.run.emit({ type: 'log', image: this.image, stream: 'stdout', line });
      this.tail.push(line);
      if (this.tail.length > TAIL_LINES) this.tail.shift();
    }
  }
}
