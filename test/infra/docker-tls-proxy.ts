import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer } from 'node:tls';

/**
 * A CA, a server certificate for `serverAddress` (127.0.0.1) and a client certificate, in a directory
 * laid out as `DOCKER_CERT_PATH` is (ca.pem, cert.pem, key.pem), plus the server's own files
 * (server.pem, server-key.pem) and the client's (client.pem, client-key.pem).
 */
export function dockerCertificates(serverAddress = '127.0.0.1'): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-tls-'));
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const key = (name: string) => ['-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}-key.pem`];
  openssl('req', '-x509', ...key('ca'), '-days', '1', '-subj', '/CN=test-ca', '-out', 'ca.pem');
  for (const [name, extension] of [
    ['server', `subjectAltName=IP:${serverAddress}`],
    ['client', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    openssl('req', ...key(name), '-subj', `/CN=${name}`, '-out', `${name}.csr`);
    writeFileSync(path.join(dir, `${name}.ext`), `${extension}\n`);
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca-key.pem',
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    );
  }
  // The docker client's file names.
  writeFileSync(path.join(dir, 'cert.pem'), readFileSync(path.join(dir, 'client.pem')));
  writeFileSync(path.join(dir, 'key.pem'), readFileSync(path.join(dir, 'client-key.pem')));
  return dir;
}

/**
 * The real Docker daemon behind TLS, as `dockerd --tlsverify -H tcp://...` serves it: a loopback TLS
 * listener that requires a client certificate from the same CA and passes each connection to the
 * daemon's unix socket. The daemon on the default socket needs no restart for a test of the client.
 */
export async function startDockerTlsProxy(socketPath = '/var/run/docker.sock') {
  const certs = dockerCertificates();
  const read = (name: string) => readFileSync(path.join(certs, name));
  let received = 0;
  const server = createServer(
    { ca: read('ca.pem'), cert: read('server.pem'), key: read('server-key.pem'), requestCert: true },
    (client) => {
      client.on('data', (chunk: Buffer) => {
        received += chunk.length;
      });
      const daemon = connect(socketPath);
      client.pipe(daemon).pipe(client);
      client.on('error', () => daemon.destroy());
      daemon.on('error', () => client.destroy());
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    certs,
    host: `tcp://127.0.0.1:${port}`,
    /** Bytes the daemon received through TLS (only a client certificate from the CA gets this far). */
    received: () => received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
