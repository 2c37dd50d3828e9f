import type { ChunkLender } from '../contracts.js';

/** The size of the archive's file reads, and of a pool's slabs. */
export const CHUNK_SIZE = 1024 * 1024;

interface Slab {
  buffer: Buffer;
  /** Bytes carved so far. */
  used: number;
  /** Offsets of the views handed out and not released yet. */
  lent: Set<number>;
}

/**
 * Memory for the archive's file chunks that is used again once the consumer is done with it.
 *
 * Why: a new buffer per chunk makes V8 run a full collection about every 20 MB of upload (its heap limit
 * counts buffer memory): some 25 in a 500 MB docker build, CPU taken from the daemon on a small machine
 * (bench/README.md). Chunks are carved one after another from 1 MiB slabs, so small files share one; a
 * slab is used again once every chunk carved from it is released. Safe by construction: only `release`
 * of a chunk handed out frees it, and the consumer calls it when nothing reads the chunk any more (a
 * socket's write callback). A chunk never released keeps its slab until the pool itself is dropped: a
 * pool is for one consumer's one archive.
 */
export class ChunkPool implements ChunkLender {
  readonly #free: Buffer[] = [];
  readonly #slabs = new Map<ArrayBufferLike, Slab>();
  #current: Slab | undefined;
  #reused = 0;

  /** `keep` bounds the free slabs held for reuse; a consumer with more in flight allocates the rest. */
  constructor(readonly keep = 32) {}

  /** `size` bytes (at most CHUNK_SIZE) that no one else holds. */
  take(size: number): Buffer {
    if (size > CHUNK_SIZE) throw new RangeError(`A pool chunk is at most ${CHUNK_SIZE} bytes.`);
    let slab = this.#current;
    if (!slab || slab.used + size > CHUNK_SIZE) {
      if (slab) this.#seal(slab);
      // allocUnsafeSlow: memory of its own, never a slice of node's shared pool.
      const free = this.#free.pop();
      if (free) this.#reused++;
      slab = { buffer: free ?? Buffer.allocUnsafeSlow(CHUNK_SIZE), used: 0, lent: new Set() };
      this.#slabs.set(slab.buffer.buffer, slab);
      this.#current = slab;
    }
    const chunk = slab.buffer.subarray(slab.used, slab.used + size);
    slab.lent.add(slab.used);
    slab.used += size;
    return chunk;
  }

  /**
   * Gives back a chunk from `take` (or a view of it that starts where it starts). Anything else, and a
   * second release of the same chunk, is ignored.
   */
  release(chunk: Uint8Array): void {
    const slab = this.#slabs.get(chunk.buffer);
    if (!slab?.lent.delete(chunk.byteOffset)) return;
    if (slab.lent.size === 0 && slab !== this.#current) this.#recycle(slab);
  }

  /** Chunks handed out and not released yet. */
  get lent(): number {
    let count = 0;
    for (const slab of this.#slabs.values()) count += slab.lent.size;
    return count;
  }

  /** Slabs handed out again after all their chunks came back. */
  get reused(): number {
    return this.#reused;
  }

  /** A slab no more chunks are carved from; it is reused once its last chunk comes back. */
  #seal(slab: Slab): void {
    this.#current = undefined;
    if (slab.lent.size === 0) this.#recycle(slab);
  }

  #recycle(slab: Slab): void {
    this.#slabs.delete(slab.buffer.buffer);
    if (this.#free.length < this.keep) this.#free.push(slab.buffer);
  }
}
