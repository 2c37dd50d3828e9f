import type * as grpc from '@grpc/grpc-js';
import { ByteProgress, type ByteProgressListener, type ContextFile } from '@zenbuild/core/backend';

/**
 * BuildKit's FileSync.DiffCopy, the sending side, for a build with `remote=client-session`: the daemon
 * asks for a directory by name (`context`, `dockerfile`: both are the build context here), the client
 * sends a STAT packet per entry in walk order and an empty STAT to end them, the daemon asks for the
 * files it does not already have (REQ, by the entry's index) and the client sends their bytes (DATA,
 * then an empty DATA), until FIN. The protocol is tonistiigi/fsutil's (send.go, types/wire.proto,
 * types/stat.proto); the daemon compares each STAT with the copy it kept from the last build under the
 * session's shared key, so an unchanged context sends no file at all.
 */
export const FILESYNC_SCHEMA = {
  Packet: {
    fields: {
      type: { type: 'int32', id: 1 },
      stat: { type: 'Stat', id: 2 },
      ID: { type: 'uint32', id: 3 },
      data: { type: 'bytes', id: 4 },
    },
  },
  Stat: {
    fields: {
      path: { type: 'string', id: 1 },
      mode: { type: 'uint32', id: 2 },
      uid: { type: 'uint32', id: 3 },
      gid: { type: 'uint32', id: 4 },
      size: { type: 'int64', id: 5 },
      modTime: { type: 'int64', id: 6 },
      linkname: { type: 'string', id: 7 },
    },
  },
};

export const DIFF_COPY_METHOD = '/moby.filesync.v1.FileSync/DiffCopy';

const PACKET = { STAT: 0, REQ: 1, DATA: 2, FIN: 3, ERR: 4 } as const;
// Go's os.FileMode type bits, which the STAT's mode carries (fsutil's mkstat: uint32(fi.Mode())).
const GO_MODE_DIR = 0x80000000;
const GO_MODE_SYMLINK = 0x08000000;
const DIRECTORIES = new Set(['context', 'dockerfile']);

interface Packet {
  type?: number;
  stat?: Record<string, unknown>;
  ID?: number;
  data?: Uint8Array;
}

/** The DiffCopy handler serving `files` (a grpc-js bidi-streaming handler). */
export function diffCopyHandler(
  files: () => ContextFile[],
  onSent?: ByteProgressListener,
  onError?: (error: unknown) => void,
): grpc.handleBidiStreamingCall<Packet, Packet> {
  return (call) => {
    const dir = String(call.metadata.get('dir-name')[0] ?? '');
    if (!DIRECTORIES.has(dir)) {
      call.write({ type: PACKET.ERR, data: Buffer.from(`no access allowed to dir "${dir}"`) });
      call.end();
      return;
    }
    // Follow paths are include patterns whose links the sender resolves (fsutil's walk); the Dockerfile
    // frontend of Docker 20.10 names the Dockerfile and .dockerignore with them, later ones with includes.
    // Node's http2 joins a header's repeated values with ", ", and grpc-js keeps them joined.
    const patterns = [...call.metadata.get('include-patterns'), ...call.metadata.get('followpaths')]
      .flatMap((value) => String(value).split(','))
      .map((value) => value.trim())
      .filter(Boolean);
    const wanted = included(patterns);
    // The whole context's transfer is the one to report (not the Dockerfile's or .dockerignore's).
    const sentBytes = new ByteProgress(dir === 'context' && patterns.length === 0 ? onSent : undefined);
    const sent = files().filter(wanted);
    const byId = new Map<number, ContextFile>();
    let queue = Promise.resolve();
    const write = (packet: Packet) =>
      new Promise<void>((resolve) => {
        if (call.write(packet)) resolve();
        else call.once('drain', resolve);
      });
    let failed = false;
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      // The daemon gets the reason too, and fails the build with it; the caller gets the error itself.
      onError?.(error);
      call.write({ type: PACKET.ERR, data: Buffer.from(String((error as Error)?.message ?? error)) });
      call.end();
    };
    call.on('data', (packet: Packet) => {
      if (packet.type === PACKET.REQ) {
        const file = byId.get(packet.ID ?? 0);
        const id = packet.ID ?? 0;
        queue = queue.then(async () => {
          if (!file) throw new Error(`invalid file id ${id}`);
          for await (const chunk of file.read()) {
            await write({ type: PACKET.DATA, ID: id, data: chunk });
            sentBytes.add(chunk.length);
          }
          await write({ type: PACKET.DATA, ID: id });
        });
        queue.catch(fail);
      } else if (packet.type === PACKET.FIN) {
        queue.then(() => {
          sentBytes.finish();
          call.write({ type: PACKET.FIN });
          call.end();
        }, fail);
      } else if (packet.type === PACKET.ERR) {
        call.end();
      }
    });
    call.on('error', () => {});
    (async () => {
      for (const [id, file] of sent.entries()) {
        if (file.type === 'file') byId.set(id, file);
        await write({ type: PACKET.STAT, stat: statOf(file) });
      }
      await write({ type: PACKET.STAT });
    })().catch(fail);
  };
}

/**
 * The STAT of an entry: the archive's normalised mode and owner, and a modification time taken from the
 * content's digest (under a second after the epoch, the archive's time to the second), so that the
 * daemon's comparison sees every change of content and no other.
 */
function statOf(file: ContextFile): Record<string, unknown> {
  const perm = file.mode & 0o7777;
  const mode =
    file.type === 'directory' ? GO_MODE_DIR | perm : file.type === 'symlink' ? GO_MODE_SYMLINK | perm : perm;
  return {
    path: file.path,
    mode: mode >>> 0,
    uid: 0,
    gid: 0,
    size: file.size,
    modTime: file.digest ? Number.parseInt(file.digest.slice(0, 8), 16) % 1_000_000_000 : 0,
    ...(file.linkTarget !== undefined ? { linkname: file.linkTarget } : {}),
  };
}

/**
 * The daemon's include patterns (the Dockerfile frontend asks for `.dockerignore` or the Dockerfile by
 * name before the whole context): a literal path selects itself, what is under it and the directories
 * above it. A pattern with wildcards sends everything, which is always correct, only larger. Exclude
 * patterns are not applied: the context is already what the dockerignore leaves, with zenbuild's own
 * files in it, which the dockerignore must not drop (ZenML #5030).
 */
function included(patterns: string[]): (file: ContextFile) => boolean {
  if (patterns.length === 0 || patterns.some((p) => /[*?[\]\\!]/.test(p))) return () => true;
  const paths = patterns.map((p) => p.replace(/^(\.\/)+/, '').replace(/\/+$/, ''));
  return (file) =>
    paths.some((p) => file.path === p || file.path.startsWith(`${p}/`) || p.startsWith(`${file.path}/`));
}
