import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import { createServer as createTlsServer } from 'node:tls';

/** This machine's first non-loopback IPv4 address: a registry there is not loopback, so https is expected. */
export function networkAddress(): string {
  const address = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
  if (!address) throw new Error('this test needs a non-loopback IPv4 address');
  return address;
}

/**
 * A forwarder on this machine's network address to `target` (`host:port`, a loopback registry): plain
 * TCP, or with `tls` a TLS front whose certificate is self-signed for that address (what an insecure
 * registry with a certificate of its own looks like to a client).
 */
export async function forwardFromNetworkAddress(target: string, options: { tls?: boolean } = {}) {
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
  if (options.tls) {
    const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-selfsigned-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'key.pem',
        '-out',
        'cert.pem',
        '-days',
        '1',
        '-subj',
        `/CN=${address}`,
        '-addext',
        `subjectAltName=IP:${address}`,
      ],
      { cwd: dir, stdio: 'pipe' },
    );
    const read = (name: string) => readFileSync(path.join(dir, name));
    server = createTlsServer({ cert: read('cert.pem'), key: read('key.pem') }, forward);
  } else {
    server = createServer(forward);
  }
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  const { port } = server.address() as AddressInfo;
  return { host: `${address}:${port}`, close: () => server.close() };
}
