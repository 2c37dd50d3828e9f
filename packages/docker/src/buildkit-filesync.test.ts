import { EventEmitter } from 'node:events';
import type { ContextFile } from '@zenbuild/core/backend';
import { describe, expect, it } from 'vitest';
import { diffCopyHandler } from './buildkit-filesync.js';

// The sending side of fsutil's DiffCopy (tonistiigi/fsutil send.go): STAT per entry then an empty STAT,
// DATA chunks then an empty DATA for each REQ, FIN answered with FIN.
const STAT = 0;
const REQ = 1;
const DATA = 2;
const FIN = 3;
const ERR = 4;

function file(path: string, content: string, digest = 'ab'.repeat(32)): ContextFile {
  return {
    path,
    type: 'file',
    mode: 0o644,
    size: content.length,
    digest,
    read: async function* () {
      yield Buffer.from(content);
    },
  };
}

const dir = (path: string): ContextFile => ({
  path,
  type: 'directory',
  mode: 0o755,
  size: 0,
  digest: '',
  read: async function* () {},
});

/** A grpc-js bidi call as the handler sees it: metadata, `data` events in, `write`/`end` out. */
function fakeCall(metadata: Record<string, string[]>) {
  const call = new EventEmitter() as EventEmitter & {
    metadata: { get(key: string): string[] };
    written: Array<{ type?: number; stat?: Record<string, unknown>; ID?: number; data?: Uint8Array }>;
    ended: boolean;
    write(packet: object): boolean;
    end(): void;
  };
  call.metadata = { get: (key) => metadata[key] ?? [] };
  call.written = [];
  call.ended = false;
  call.write = (packet) => {
    call.written.push(packet);
    return true;
  };
  call.end = () => {
    call.ended = true;
  };
  return call;
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

describe('the DiffCopy sender', () => {
  const files = [dir('src'), file('src/a.py', 'a = 1\n'), file('Dockerfile', 'FROM x\n')];

  it('sends a STAT per entry (Go file modes, digest times), then an empty STAT', async () => {
    const call = fakeCall({ 'dir-name': ['context'] });
    diffCopyHandler(() => files)(call as never);
    await settle();
    expect(call.written.map((p) => [p.type, p.stat?.path ?? null])).toEqual([
      [STAT, 'src'],
      [STAT, 'src/a.py'],
      [STAT, 'Dockerfile'],
      [STAT, null],
    ]);
    // os.ModeDir | 0755, and a plain 0644: what fsutil's mkstat writes.
    expect(call.written[0]?.stat?.mode).toBe(0x80000000 + 0o755);
    expect(call.written[1]?.stat?.mode).toBe(0o644);
    // Under a second after the epoch, from the digest: 0xabababab % 1e9.
    expect(call.written[1]?.stat?.modTime).toBe(0xabababab % 1_000_000_000);
  });

  it('answers a REQ with the file’s bytes and an empty DATA, and FIN with FIN', async () => {
    const call = fakeCall({ 'dir-name': ['context'] });
    let sent = -1;
    diffCopyHandler(
      () => files,
      (bytes, done) => {
        if (done) sent = bytes;
      },
    )(call as never);
    await settle();
    call.written.length = 0;
    call.emit('data', { type: REQ, ID: 1 });
    call.emit('data', { type: FIN });
    await settle();
    expect(
      call.written.map((p) => [p.type, p.ID ?? null, p.data ? Buffer.from(p.data).toString() : null]),
    ).toEqual([
      [DATA, 1, 'a = 1\n'],
      [DATA, 1, null],
      [FIN, null, null],
    ]);
    expect(call.ended).toBe(true);
    expect(sent).toBe(6);
  });

  it('sends only what the include patterns or follow paths name, which node’s http2 hands over joined', async () => {
    const call = fakeCall({
      'dir-name': ['dockerfile'],
      followpaths: ['Dockerfile, Dockerfile.dockerignore'],
    });
    diffCopyHandler(() => files)(call as never);
    await settle();
    expect(call.written.map((p) => p.stat?.path ?? null)).toEqual(['Dockerfile', null]);
  });

  it('refuses a directory it was not given, and a REQ for an entry that is not a file', async () => {
    const other = fakeCall({ 'dir-name': ['/etc'] });
    diffCopyHandler(() => files)(other as never);
    expect(other.written[0]?.type).toBe(ERR);
    expect(Buffer.from(other.written[0]?.data ?? []).toString()).toBe('no access allowed to dir "/etc"');
    const call = fakeCall({ 'dir-name': ['context'] });
    const errors: unknown[] = [];
    diffCopyHandler(
      () => files,
      undefined,
      (error) => errors.push(error),
    )(call as never);
    await settle();
    call.emit('data', { type: REQ, ID: 0 }); // the directory
    await settle();
    expect(call.written.at(-1)?.type).toBe(ERR);
    expect(String(errors[0])).toMatch(/invalid file id 0/);
  });
});
