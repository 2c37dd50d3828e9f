import type { IncomingMessage, Server } from 'node:http';

/** A request's whole body, or undefined when the client went away mid-request (nothing to answer). */
export async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of req) chunks.push(chunk as Buffer);
  } catch {
    return undefined;
  }
  return Buffer.concat(chunks);
}

/**
 * Closes a fake's server. A client that gave up on a request may leave its connection open (an aborted
 * GCS upload does), so every connection is closed, or the fake would wait for it.
 */
export function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
