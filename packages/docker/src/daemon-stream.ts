/** One JSON message of the daemon's build or push stream. */
export interface DaemonMessage {
  stream?: string;
  status?: string;
  id?: string;
  progress?: string;
  error?: string;
  errorDetail?: { code?: number; message?: string };
  /** An object; with BuildKit, for `id: moby.buildkit.trace`, a base64 protobuf message. */
  aux?: { ID?: string; Tag?: string; Digest?: string; Size?: number } | string;
}

/**
 * Reads every message of a daemon stream (newline-delimited JSON, split anywhere across chunks) and
 * hands it to `onMessage`. Unlike dockerode's followProgress it never swallows an `error` line: the
 * caller sees every message and decides.
 */
export async function readDaemonStream(
  stream: NodeJS.ReadableStream,
  onMessage: (message: DaemonMessage) => void,
): Promise<void> {
  let pending = '';
  const handle = (line: string) => {
    const text = line.trim();
    if (!text) return;
    try {
      onMessage(JSON.parse(text) as DaemonMessage);
    } catch {
      onMessage({ stream: text }); // not JSON: keep it as output rather than drop it
    }
  };
  for await (const chunk of stream) {
    pending += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) handle(line);
  }
  handle(pending);
}
