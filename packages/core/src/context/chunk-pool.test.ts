import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { project } from '../__fixtures__/pipeline.js';
import { archiveContext } from './archive.js';
import { CHUNK_SIZE, ChunkPool } from './chunk-pool.js';
import { walkContext } from './walk.js';

const KiB = 1024;

describe('ChunkPool', () => {
  it('carves chunks one after another from a slab, each its own bytes', () => {
    const pool = new ChunkPool();
    const a = pool.take(100 * KiB);
    const b = pool.take(200 * KiB);
    expect(b.buffer).toBe(a.buffer);
    expect(b.byteOffset).toBe(a.byteOffset + a.length);
    expect([a.length, b.length]).toEqual([100 * KiB, 200 * KiB]);
    // A chunk that does not fit starts a new slab.
    const c = pool.take(CHUNK_SIZE - 100 * KiB);
    expect(c.buffer).not.toBe(a.buffer);
    expect(pool.lent).toBe(3);
  });

  it('hands a slab out again only once every chunk carved from it is back', () => {
    const pool = new ChunkPool();
    const a = pool.take(CHUNK_SIZE / 2);
    const b = pool.take(CHUNK_SIZE / 2);
    pool.take(CHUNK_SIZE); // seals the first slab
    pool.release(a);
    expect(pool.take(CHUNK_SIZE).buffer).not.toBe(a.buffer); // b still holds it
    pool.release(b.subarray(0, 10)); // a view that starts where b starts releases b
    expect(pool.take(CHUNK_SIZE).buffer).toBe(a.buffer);
    expect(pool.reused).toBe(1);
  });

  it('ignores a second release and memory it did not hand out', () => {
    const pool = new ChunkPool();
    const a = pool.take(CHUNK_SIZE);
    pool.take(CHUNK_SIZE);
    pool.release(a);
    pool.release(a);
    pool.release(Buffer.alloc(CHUNK_SIZE));
    const first = pool.take(CHUNK_SIZE);
    const second = pool.take(CHUNK_SIZE);
    expect(first.buffer).toBe(a.buffer);
    // Had the second release counted, the same memory would be handed out twice.
    expect(second.buffer).not.toBe(a.buffer);
    expect(pool.reused).toBe(1);
  });

  it('keeps at most `keep` free slabs', () => {
    const pool = new ChunkPool(1);
    const chunks = [pool.take(CHUNK_SIZE), pool.take(CHUNK_SIZE), pool.take(CHUNK_SIZE)];
    pool.take(1);
    for (const chunk of chunks) pool.release(chunk);
    expect(pool.take(CHUNK_SIZE).buffer).toBe(chunks[0]?.buffer);
    expect(pool.take(CHUNK_SIZE).buffer).not.toBe(chunks[1]?.buffer);
    expect(pool.reused).toBe(1);
  });

  it('refuses a chunk larger than a slab', () => {
    expect(() => new ChunkPool().take(CHUNK_SIZE + 1)).toThrow(RangeError);
  });
});

describe('an archive read into a pool', () => {
  const files = Object.fromEntries(
    Array.from({ length: 48 }, (_, i) => [`data/f${i}.bin`, randomBytes(i % 3 === 0 ? 1_500_000 : 90_000)]),
  );
  const root = project(files);

  /**
   * The archive's sha256, each chunk hashed only when it is released, `lag` chunks after it arrived (as
   * a socket's queue holds them): had the pool handed its memory out again early, the bytes would differ.
   */
  async function tarSha(pool?: ChunkPool, lag = 0): Promise<string> {
    const { entries } = await walkContext({ root, files: [{ path: 'Dockerfile', content: 'FROM x\n' }] });
    const hash = createHash('sha256');
    const held: Buffer[] = [];
    const settle = (chunk: Buffer) => {
      hash.update(chunk);
      pool?.release(chunk);
    };
    // Flowing, chunk by chunk, as a pipe delivers them (`read()` may join buffered chunks into a copy).
    const stream = archiveContext(entries, 'tar', { pool });
    stream.on('data', (chunk: Buffer) => {
      held.push(chunk);
      if (held.length > lag) settle(held.shift() as Buffer);
    });
    await once(stream, 'end');
    held.forEach(settle);
    return hash.digest('hex');
  }

  it('gives the same bytes, and reuses memory, when the consumer releases chunks late', async () => {
    const pool = new ChunkPool();
    expect(await tarSha(pool, 3)).toBe(await tarSha());
    expect(pool.reused).toBeGreaterThan(0);
    expect(pool.lent).toBe(0);
  });

  it('gives the same bytes when the consumer releases nothing until the end', async () => {
    const pool = new ChunkPool();
    expect(await tarSha(pool, Number.POSITIVE_INFINITY)).toBe(await tarSha());
    expect(pool.reused).toBe(0);
  });
});
