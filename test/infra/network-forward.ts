import { readFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import path from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { dockerCertificates } from './docker-tls-proxy.js';

/** This machine's first non-loopback IPv4 address: a registry there is not loopback, so https is expected. */
export function networkAddress(): string {
  const address = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
  if (!address) throw new Error('this test needs a non-loopback IPv4 address');
  return address;
}

/**
 * A private CA and, signed by it, a server certificate for `address` and a client certificate:
 * ca.pem, server.pem and server-key.pem, client.pem and client-key.pem.
 */
export const privateCa = (address: string): string => dockerCertificates(address);

/**
 * A forwarder on this machine's network address to `target` (`host:port`, a loopback registry): plain
 * TCP, or with `tls` a TLS front with a certificate from a private CA (what a registry with its own CA,
 * or an insecure one with a certificate of its own, looks like to a client), asking for a client
 * certificate from that CA with `requireClientCertificate`. `certs` holds its files (`privateCa`).
 */
export async function forwardFromNetworkAddress(
  target: string,
  options: { tls?: boolean; requireClientCertificate?: boolean } = {},
) {
  const address = networkAddress();
  const [targetHost, targetPort] = target.split(':');
  const forward = (socket: Socket) => {
    const upstream = connect(Number(targetPort), targetHost as string);
    socket.pipe(upstream).pipe(socket);
    const end = () => {
      socket.destroy();
      upstream.destroy();
    };
    socket.on('error', end);
    upstream.on('error', end);
  };
  let server: Server;
  let certs: string | undefined;
  if (options.tls) {
    certs = privateCa(address);
    const read = (name: string) => readFileSync(path.join(certs as string, name));
    server = createTlsServer(
      {
        cert: read('server.pem'),
        key: read('server-key.pem'),
        ...(options.requireClientCertificate
          ? { ca: read('ca.pem'), requestCert: true, rejectUnauthorized: true }
          : {}),
      },
      forward,
    );
  } else {
    server = createServer(forward);
  }
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  const { port } = server.address() as AddressInfo;
  return { host: `${address}:${port}`, certs, close: () => server.close() };
}
