import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type BuildEvent, hashContext, walkContext, ZenbuildError } from '@zenbuild/core';
import {
  type BuildContextSource,
  type BuildRequest,
  buildContextSource,
  type ContainerEngine,
  type RunContext,
} from '@zenbuild/core/backend';
import { stalledStream } from './cancel.js';

// What the cases share: requests as core makes them, run contexts that record events, contexts that
// stall, and small tools.

export const unique = () => Math.random().toString(36).slice(2, 8);

/** A free TCP port on 127.0.0.1: for a registry that is not there, or a proxy. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export function runContext(): RunContext & { events: BuildEvent[] } {
  const events: BuildEvent[] = [];
  return { signal: new AbortController().signal, emit: (e) => events.push(e), events };
}

/** A build request as the local image builder makes it: core's context with a generated Dockerfile. */
export async function buildRequest(
  imageName: string,
  dockerfile: string,
  extra: Partial<BuildRequest> = {},
): Promise<BuildRequest> {
  const root = mkdtempSync(path.join(tmpdir(), 'zenbuild-engine-'));
  writeFileSync(path.join(root, 'app.py'), 'print("hello from the context")\n');
  const walked = await walkContext({ root, files: [{ path: 'Dockerfile', content: dockerfile }] });
  const { hash } = await hashContext(walked.entries);
  return {
    imageName,
    context: buildContextSource(walked.entries, hash),
    dockerfile: 'Dockerfile',
    options: {},
    ...extra,
  };
}

/** Builds `image` on `baseImage` with `/parent` holding `text`: a parent for the pull cases. */
export async function buildParent(engine: ContainerEngine, baseImage: string, image: string, text: string) {
  await engine.build(
    await buildRequest(image, `FROM ${baseImage}\nRUN echo ${text} > /parent\n`),
    runContext(),
  );
}

/** A docker config directory whose `config.json` has these `auths`. */
export function dockerConfig(auths: Record<string, Record<string, string>>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-dc-'));
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ auths }));
  return dir;
}

/** A request for `child` on `parent` whose RUN step reads the parent's `/parent`. */
export function childRequest(child: string, parent: string, extra: Partial<BuildRequest> = {}) {
  return buildRequest(child, `FROM ${parent}\nRUN cat /parent\n`, { parentImage: parent, ...extra });
}

/**
 * A context whose stream sends the start of a real tar archive, then nothing: the engine waits for the
 * rest, as it does for a large context on a slow disk. For cancelling mid-send (or mid-copy, for an
 * engine that takes the context as a directory).
 */
export function stalledContext(): BuildContextSource {
  const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-slow-'));
  writeFileSync(path.join(dir, 'big.bin'), Buffer.alloc(1 << 20));
  const head = spawnSync('tar', ['-c', '-C', dir, 'big.bin']).stdout.subarray(0, 4096);
  const dockerfile = Buffer.from('FROM scratch\nCOPY big.bin /\n');
  return {
    hash: 'd'.repeat(64),
    size: 1 << 20,
    // A Dockerfile that copies the big file, whose first chunk comes and then nothing, for a transfer
    // file by file (BuildKit asks for the Dockerfile first, then for the file).
    files: () => [
      {
        path: 'Dockerfile',
        type: 'file',
        mode: 0o644,
        size: dockerfile.length,
        digest: 'f'.repeat(64),
        read: async function* () {
          yield dockerfile;
        },
      },
      {
        path: 'big.bin',
        type: 'file',
        mode: 0o644,
        size: 1 << 20,
        digest: 'e'.repeat(64),
        read: async function* () {
          yield Buffer.alloc(4096);
          await new Promise(() => {});
        },
      },
    ],
    tar: () => stalledStream(head),
    archive: () => stalledStream(head),
    // The first file's start on disk, then nothing until the signal, as a copy of a large file stops.
    writeTo: (into, { signal } = {}) => {
      writeFileSync(path.join(into, 'big.bin'), Buffer.alloc(4096));
      return new Promise((_, reject) =>
        signal?.addEventListener('abort', () =>
          reject(new ZenbuildError('CANCELLED', 'Writing the build context was cancelled.')),
        ),
      );
    },
  };
}

export async function failure(promise: Promise<unknown>): Promise<ZenbuildError> {
  try {
    await promise;
  } catch (error) {
    return error as ZenbuildError;
  }
  throw new Error('expected a failure');
}
