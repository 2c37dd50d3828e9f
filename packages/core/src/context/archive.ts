import { open } from 'node:fs/promises';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import yazl from 'yazl';
import { invalidInput } from '../errors.js';
import type { ContextEntry, EntrySource } from './walk.js';

export type ArchiveFormat = 'tar' | 'tar.gz' | 'zip';

/** Every entry gets the same time: the tar epoch, and for zip the earliest DOS date (1980-01-01). */
const TAR_MTIME = new Date(0);
const ZIP_MTIME = new Date(1980, 0, 1, 0, 0, 0);

/**
 * Streams the entries as an archive. Deterministic: entries in the given (sorted) order, fixed times,
 * uid/gid 0, no user or group names, normalised modes, gzip without name or time. Files are read one
 * at a time as the consumer pulls, so memory does not grow with the size of the context.
 */
export function archiveContext(entries: ContextEntry[], format: ArchiveFormat): Readable {
  if (format === 'zip') return zipArchive(entries);
  const stream = tarArchive(entries);
  if (format === 'tar') return stream;
  const gzip = createGzip({ level: 6 });
  stream.on('error', (error) => gzip.destroy(error));
  return stream.pipe(gzip);
}

function tarArchive(entries: ContextEntry[]): Readable {
  const pack = tar.pack();
  const write = async () => {
    for (const entry of entries) {
      const header = {
        name: entry.type === 'directory' ? `${entry.path}/` : entry.path,
        mode: entry.mode,
        mtime: TAR_MTIME,
        uid: 0,
        gid: 0,
        uname: '',
        gname: '',
      };
      if (entry.type === 'directory') {
        await addEntry(pack, { ...header, type: 'directory' });
      } else if (entry.type === 'symlink') {
        await addEntry(pack, { ...header, type: 'symlink', linkname: entry.linkTarget ?? '' });
      } else {
        const body = await openSource(entry);
        const sink = pack.entry({ ...header, type: 'file', size: entry.size });
        await pipeline(body, sink as unknown as NodeJS.WritableStream);
      }
    }
    pack.finalize();
  };
  write().catch((error: unknown) => pack.destroy(error as Error));
  return pack as unknown as Readable;
}

function addEntry(pack: tar.Pack, header: Partial<tar.Header> & { name: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry(header, (error) => (error ? reject(error) : resolve()));
  });
}

function zipArchive(entries: ContextEntry[]): Readable {
  const zip = new yazl.ZipFile();
  const output = new PassThrough();
  zip.outputStream.on('error', (error: Error) => output.destroy(error));
  zip.outputStream.pipe(output);
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
      zip.addReadStreamLazy(
        entry.path,
        { ...options, mode: 0o100000 | entry.mode, size: entry.size },
        (callback) => {
          openSource(entry).then(
            (stream) => callback(null, stream),
            (error: Error) => callback(error, undefined as unknown as Readable),
          );
        },
      );
    }
  }
  zip.end();
  return output;
}

/** A file's bytes, after checking it is still the version that was walked (and hashed). */
async function openSource(entry: ContextEntry): Promise<Readable> {
  const source = entry.source as EntrySource;
  if (source.kind === 'generated') return Readable.from([source.content]);
  const handle = await open(source.absolute, 'r');
  const stat = await handle.stat({ bigint: true });
  if (
    Number(stat.size) !== source.fingerprint.size ||
    stat.mtimeNs.toString() !== source.fingerprint.mtimeNs
  ) {
    await handle.close();
    throw invalidInput(
      `${source.absolute} changed after the build context was planned; run the build again so the plan, the hash and the archive agree.`,
    );
  }
  return handle.createReadStream({ highWaterMark: 1024 * 1024, autoClose: true });
}
