import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { PassThrough, pipeline, Readable } from 'node:stream';
import type tar from 'tar-stream';
import type yazl from 'yazl';
import type { ChunkLender } from '../contracts.js';
import { invalidInput } from '../errors.js';
import { EventLoopYield, yieldToEventLoop } from '../util/yield.js';
import { CHUNK_SIZE as CHUNK } from './chunk-pool.js';
import { assertUnchanged } from './unchanged.js';
import type { ContextEntry, EntrySource } from './walk.js';

export type ArchiveFormat = 'tar' | 'tar.gz' | 'zip';

/** Every entry gets the same time: the tar epoch, and for zip the earliest DOS date (1980-01-01). */
const TAR_MTIME = new Date(0);
const ZIP_MTIME = new Date(1980, 0, 1, 0, 0, 0);

export interface ArchiveOptions {
  /**
   * Read file chunks into this pool's buffers. Only for a consumer that releases each chunk to the pool
   * once it is done with it (see ChunkPool); others leave it out and get a new buffer per chunk. Used
   * for `tar` only: compressed formats hand their consumer new bytes, so no chunk could come back.
   */
  pool?: ChunkLender;
}

/**
 * Streams the entries as an archive. Deterministic: entries in the given (sorted) order, fixed times,
 * uid/gid 0, no user or group names, normalised modes, gzip without name or time. Files are read as the
 * consumer pulls, so memory does not grow with the size of the context.
 */
export function archiveContext(
  entries: ContextEntry[],
  format: ArchiveFormat,
  options: ArchiveOptions = {},
): Readable {
  // Room for 16 file chunks: with the default 16 KiB every 1 MiB chunk would wait on the consumer. 16
  // rather than 4 made a 500 MB upload to dockerd about 6% faster in alternating runs (bench/README.md);
  // a fast consumer never fills it, so memory stays as it was.
  const output = new PassThrough({ highWaterMark: 16 * CHUNK });
  // The archivers (and zlib) are loaded when first used: planning, reuse checks and `zenbuild context`
  // never use them.
  const archiver = Promise.all([
    format === 'zip' ? import('yazl') : import('tar-stream'),
    format === 'tar' ? undefined : import('node:zlib'),
  ]);
  archiver
    .then(async ([{ default: lib }, zlib]) => {
      const stages: NodeJS.ReadableStream[] =
        format === 'zip'
          ? [zipArchive(lib as typeof yazl, entries, zlib as typeof import('node:zlib'))]
          : [
              tarArchive(lib as typeof tar, entries, zlib ? undefined : options.pool),
              ...(zlib ? [zlib.createGzip({ level: await gzipLevel(zlib, entries), chunkSize: CHUNK })] : []),
            ];
      // pipeline hands any stage's error to the output, and destroys every stage when the consumer stops.
      pipeline([...stages, output] as unknown as [Readable, PassThrough], () => {});
    })
    .catch((error: unknown) => output.destroy(error as Error));
  return output;
}

type Header = Partial<tar.Header> & { name: string };

function tarArchive(lib: typeof tar, entries: ContextEntry[], pool?: ChunkLender): Readable {
  const pack = lib.pack();
  const write = async () => {
    const pause = new EventLoopYield();
    for (const entry of entries) {
      if (pause.due(entry.size + 512)) await yieldToEventLoop();
      const header: Header = {
        name: entry.type === 'directory' ? `${entry.path}/` : entry.path,
        mode: entry.mode,
        mtime: TAR_MTIME,
        uid: 0,
        gid: 0,
        uname: '',
        gname: '',
      };
      if (entry.type === 'directory') await writeEntry(pack, { ...header, type: 'directory' });
      else if (entry.type === 'symlink')
        await writeEntry(pack, { ...header, type: 'symlink', linkname: entry.linkTarget ?? '' });
      else await writeEntry(pack, { ...header, type: 'file', size: entry.size }, entry, pool);
    }
    pack.finalize();
  };
  write().catch((error: unknown) => pack.destroy(error as Error));
  // A streamx stream, which pipeline treats like a Node one: it listens for the pack's errors (a streamx
  // stream throws when nobody does) and hands them to the output, where callers see them.
  return pack as unknown as Readable;
}

/** Writes one entry, waiting whenever the consumer is behind, so memory stays flat. */
function writeEntry(pack: tar.Pack, header: Header, file?: ContextEntry, pool?: ChunkLender): Promise<void> {
  return new Promise((resolve, reject) => {
    // streamx writables behave like Node's; their typings are narrower than what they accept.
    const sink = pack.entry(header, (error) =>
      error ? reject(error) : resolve(),
    ) as unknown as NodeJS.WritableStream;
    // Destroying the pack passes its error to the open entry too; it is reported once, by the pack.
    sink.on('error', () => {});
    if (!file) return;
    const write = async () => {
      for (const chunk of fileChunks(file, pool)) {
        if (!sink.write(chunk)) await new Promise((drained) => sink.once('drain', drained));
      }
      sink.end();
    };
    // On failure the whole pack is destroyed with this error (tarArchive), which ends the entry too.
    write().catch(reject);
  });
}

/**
 * Files at least this large are probed for whether deflating them is worth it (below, it always is),
 * from this many of their first bytes: level 1 takes about 0.2 ms on 16 KiB of random bytes, 1.1 ms on
 * 64 KiB, and judges weights and random data the same from either.
 */
const PROBE_BYTES = 16 * 1024;
/** Probes run synchronously; the event loop gets a turn after this many (about 50 ms of them). */
const PROBES_BETWEEN_YIELDS = 256;

/**
 * Whether a file's content is worth deflating, judged from its first 16 KiB deflated at level 1: not
 * when that saves under 10% (model weights, archives, images, random data), where level 6 would spend
 * about 30 ms a megabyte for nothing. The answer depends on the content only, so the archive stays
 * deterministic. A file that cannot be read here is left to the archive's own read to report.
 */
function worthDeflating(zlib: typeof import('node:zlib'), entry: ContextEntry): boolean {
  const source = entry.source;
  if (entry.size < PROBE_BYTES || source?.kind !== 'fs') return true;
  let fd: number | undefined;
  try {
    fd = openSync(source.absolute, 'r');
    const probe = Buffer.allocUnsafe(PROBE_BYTES);
    const n = readSync(fd, probe, 0, PROBE_BYTES, 0);
    return zlib.deflateRawSync(probe.subarray(0, n), { level: 1 }).length < n * 0.9;
  } catch {
    return true;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * worthDeflating for one entry after another, which gives the event loop a turn every
 * PROBES_BETWEEN_YIELDS probes: a tree with thousands of large files does not hold it up.
 */
function compressionProbe(zlib: typeof import('node:zlib')): (entry: ContextEntry) => Promise<boolean> {
  const pause = new EventLoopYield(PROBES_BETWEEN_YIELDS * PROBE_BYTES);
  return async (entry) => {
    if (entry.size >= PROBE_BYTES && pause.due(PROBE_BYTES)) await yieldToEventLoop();
    return worthDeflating(zlib, entry);
  };
}

/**
 * The gzip level of a tar.gz: one stream, so one level for all. 6 (GNU tar's) when most of the bytes
 * deflate (by the probe of each file of 16 KiB or more; smaller files count as deflating), else 0:
 * a context that is mostly weights or data is then stored, at disk speed, instead of spending about
 * 30 ms a megabyte to save a few percent. Deterministic: it depends on the content alone.
 */
async function gzipLevel(zlib: typeof import('node:zlib'), entries: ContextEntry[]): Promise<number> {
  const probe = compressionProbe(zlib);
  let deflating = 0;
  let stored = 0;
  for (const entry of entries) {
    if (entry.type !== 'file') continue;
    if (await probe(entry)) deflating += entry.size;
    else stored += entry.size;
  }
  return deflating >= stored ? 6 : 0;
}

function zipArchive(lib: typeof yazl, entries: ContextEntry[], zlib: typeof import('node:zlib')): Readable {
  const zip = new lib.ZipFile();
  // Entries are added as the probes go; yazl streams the first ones meanwhile.
  const add = async () => {
    const probe = compressionProbe(zlib);
    for (const entry of entries) {
      const options = { mtime: ZIP_MTIME, forceDosTimestamp: true };
      if (entry.type === 'directory') {
        zip.addEmptyDirectory(`${entry.path}/`, { ...options, mode: 0o40000 | entry.mode });
      } else if (entry.type === 'symlink') {
        // Zip stores a symlink as an entry with the link mode whose content is the target.
        zip.addBuffer(Buffer.from(entry.linkTarget ?? '', 'utf8'), entry.path, {
          ...options,
          mode: 0o120000 | entry.mode,
          compress: false,
        });
      } else {
        const compress = await probe(entry);
        zip.addReadStreamLazy(
          entry.path,
          {
            ...options,
            mode: 0o100000 | entry.mode,
            size: entry.size,
            compress,
          },
          (callback) => {
            const stream = Readable.from(fileChunks(entry), { objectMode: false });
            // yazl does not listen for its input's errors: without this a changed file would crash the
            // process and leave the archive hanging.
            stream.on('error', (error) => (zip.outputStream as Readable).destroy(error));
            callback(null, stream);
          },
        );
      }
    }
    zip.end();
  };
  add().catch((error: unknown) => (zip.outputStream as Readable).destroy(error as Error));
  return zip.outputStream as Readable;
}

/**
 * A file's bytes in chunks, read synchronously (see walk.ts for why), after checking it is still the
 * version that was walked and hashed. Each chunk is a new buffer, or one from `pool` that its consumer
 * has released: the consumer may still hold the last.
 */
export function* fileChunks(entry: ContextEntry, pool?: ChunkLender): Generator<Buffer> {
  const source = entry.source as EntrySource;
  if (source.kind === 'generated') {
    yield source.content;
    return;
  }
  const fd = openSync(source.absolute, 'r');
  try {
    assertUnchanged(source, fstatSync(fd));
    let remaining = source.fingerprint.size;
    while (remaining > 0) {
      const size = Math.min(CHUNK, remaining);
      const chunk = pool ? pool.take(size) : Buffer.allocUnsafe(size);
      const n = readSync(fd, chunk, 0, size, null);
      if (n === 0) {
        pool?.release(chunk);
        throw invalidInput(`${source.absolute} got shorter while it was archived.`);
      }
      remaining -= n;
      yield n === size ? chunk : chunk.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}
