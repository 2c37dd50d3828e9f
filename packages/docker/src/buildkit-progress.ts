import { lazyImport } from '@zenbuild/core/backend';
import type { Type } from 'protobufjs';

/**
 * BuildKit's progress, as the daemon streams it on a `version=2` build: messages with the id
 * `moby.buildkit.trace` whose `aux` is a base64 `moby.buildkit.v1.StatusResponse` (BuildKit's
 * api/services/control/control.proto; google.protobuf.Timestamp for the times).
 */
export interface StatusResponse {
  vertexes?: Vertex[];
  statuses?: VertexStatus[];
  logs?: VertexLog[];
  warnings?: VertexWarning[];
}
interface Timestamp {
  seconds?: number | Long;
  nanos?: number;
}
type Long = { toNumber(): number };
interface Vertex {
  digest: string;
  name?: string;
  cached?: boolean;
  started?: Timestamp;
  completed?: Timestamp;
  error?: string;
}
interface VertexStatus {
  ID?: string;
  vertex: string;
  name?: string;
  current?: number | Long;
  total?: number | Long;
  completed?: Timestamp;
}
interface VertexLog {
  vertex: string;
  msg?: Uint8Array;
}
interface VertexWarning {
  vertex?: string;
  short?: Uint8Array;
}

const timestamp = { fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } } };

/** The messages of control.proto the trace uses; the fields zenbuild does not read are left out. */
const TRACE_SCHEMA = {
  nested: {
    StatusResponse: {
      fields: {
        vertexes: { rule: 'repeated', type: 'Vertex', id: 1 },
        statuses: { rule: 'repeated', type: 'VertexStatus', id: 2 },
        logs: { rule: 'repeated', type: 'VertexLog', id: 3 },
        warnings: { rule: 'repeated', type: 'VertexWarning', id: 4 },
      },
    },
    Vertex: {
      fields: {
        digest: { type: 'string', id: 1 },
        name: { type: 'string', id: 3 },
        cached: { type: 'bool', id: 4 },
        started: { type: 'Timestamp', id: 5 },
        completed: { type: 'Timestamp', id: 6 },
        error: { type: 'string', id: 7 },
      },
    },
    VertexStatus: {
      fields: {
        ID: { type: 'string', id: 1 },
        vertex: { type: 'string', id: 2 },
        name: { type: 'string', id: 3 },
        current: { type: 'int64', id: 4 },
        total: { type: 'int64', id: 5 },
        completed: { type: 'Timestamp', id: 8 },
      },
    },
    VertexLog: {
      fields: {
        vertex: { type: 'string', id: 1 },
        stream: { type: 'int64', id: 3 },
        msg: { type: 'bytes', id: 4 },
      },
    },
    VertexWarning: {
      fields: { vertex: { type: 'string', id: 1 }, short: { type: 'bytes', id: 3 } },
    },
    Timestamp: timestamp,
  },
};

/** protobufjs, loaded with the first BuildKit build (the light build: no .proto parser). */
export const loadTraceDecoder = lazyImport(async (): Promise<(aux: string) => StatusResponse> => {
  const { default: protobuf } = await import('protobufjs/light.js');
  const type: Type = protobuf.Root.fromJSON(TRACE_SCHEMA).lookupType('StatusResponse');
  return (aux) => type.decode(Buffer.from(aux, 'base64')) as unknown as StatusResponse;
});

/**
 * Turns the trace into lines as `docker build --progress=plain` prints them: `#N name` when a step
 * starts, `#N CACHED`, its output as `#N text`, `#N DONE 0.3s` or `#N ERROR: why`. Steps are numbered
 * in the order they are first seen; a log line split across messages is held until it ends.
 */
export class BuildkitProgress {
  readonly #numbers = new Map<string, number>();
  readonly #announced = new Set<string>();
  readonly #finished = new Set<string>();
  readonly #partial = new Map<string, string>();
  readonly #doneStatuses = new Set<string>();
  readonly #line: (line: string) => void;
  readonly #warning: (message: string) => void;

  constructor(line: (line: string) => void, warning: (message: string) => void) {
    this.#line = line;
    this.#warning = warning;
  }

  add(status: StatusResponse): void {
    for (const vertex of status.vertexes ?? []) this.#vertex(vertex);
    for (const entry of status.statuses ?? []) {
      // Only finished transfers: their running byte counts would be a line per message.
      const key = `${entry.vertex}\0${entry.ID ?? entry.name}`;
      if (!entry.completed || this.#doneStatuses.has(key)) continue;
      this.#doneStatuses.add(key);
      // Exporting's statuses often have neither name nor size: nothing to say.
      const what = entry.name || entry.ID;
      if (!what) continue;
      const size = entry.total ? toNumber(entry.total) : toNumber(entry.current);
      this.#emit(entry.vertex, `${what}${size ? ` ${formatBytes(size)}` : ''} done`);
    }
    for (const log of status.logs ?? []) {
      const text = (this.#partial.get(log.vertex) ?? '') + Buffer.from(log.msg ?? []).toString('utf8');
      const lines = text.split(/\r?\n/);
      this.#partial.set(log.vertex, lines.pop() ?? '');
      for (const line of lines) if (line.trim() !== '') this.#emit(log.vertex, line);
    }
    for (const warning of status.warnings ?? []) {
      const text = Buffer.from(warning.short ?? [])
        .toString('utf8')
        .trim();
      if (text) this.#warning(text);
    }
  }

  #vertex(vertex: Vertex): void {
    if (this.#finished.has(vertex.digest)) return;
    if (!this.#announced.has(vertex.digest) && (vertex.started || vertex.cached || vertex.completed)) {
      this.#announced.add(vertex.digest);
      this.#emit(vertex.digest, vertex.name ?? vertex.digest);
    }
    if (vertex.cached) {
      this.#finished.add(vertex.digest);
      this.#emit(vertex.digest, 'CACHED');
    } else if (vertex.error) {
      this.#finished.add(vertex.digest);
      this.#flush(vertex.digest);
      this.#emit(vertex.digest, `ERROR: ${vertex.error}`);
    } else if (vertex.completed) {
      this.#finished.add(vertex.digest);
      this.#flush(vertex.digest);
      const seconds = vertex.started ? secondsOf(vertex.completed) - secondsOf(vertex.started) : 0;
      this.#emit(vertex.digest, `DONE ${Math.max(0, seconds).toFixed(1)}s`);
    }
  }

  #flush(digest: string): void {
    const rest = this.#partial.get(digest);
    if (rest?.trim()) this.#emit(digest, rest);
    this.#partial.delete(digest);
  }

  #emit(digest: string, text: string): void {
    let number = this.#numbers.get(digest);
    if (number === undefined) {
      number = this.#numbers.size + 1;
      this.#numbers.set(digest, number);
    }
    this.#line(`#${number} ${text}`);
  }
}

function toNumber(value: number | Long | undefined): number {
  if (value === undefined) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}

function secondsOf(time: Timestamp): number {
  return toNumber(time.seconds) + (time.nanos ?? 0) / 1e9;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes}B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)}kB`;
  return `${(bytes / 1024 / 1024).toFixed(1)}MB`;
}
