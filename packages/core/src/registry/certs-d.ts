import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** A registry's own TLS material, as docker and podman read it from a `certs.d/<host>` directory. */
export interface RegistryTls {
  /** The directory it came from, for messages. */
  dir: string;
  /** CA certificates (`*.crt`), trusted for this host on top of the system's. */
  ca: string[];
  /** A client certificate (`*.cert`) with its key (`*.key` of the same name), for registries that ask for one. */
  cert?: string;
  key?: string;
}

/**
 * Where the engines look for a registry's certificates, in podman's order (containers-certs.d(5)): the
 * user's `~/.config/containers/certs.d`, then `/etc/containers/certs.d`, then docker's
 * `/etc/docker/certs.d`, which dockerd reads alone. The first directory named after the host wins.
 */
export function certsDirectories(env: NodeJS.ProcessEnv = process.env): string[] {
  const home = env.HOME || os.homedir();
  return [path.join(home, '.config/containers/certs.d'), '/etc/containers/certs.d', '/etc/docker/certs.d'];
}

/**
 * The TLS material for a registry host (`host:port` as it is written in image names) from the first
 * `certs.d/<host>` directory that exists, read as dockerd reads it: every `*.crt` is a CA, every `*.cert`
 * a client certificate whose key is the `*.key` of the same name (a certificate without one is an error
 * there too). Undefined when no directory names the host.
 */
export async function registryTls(
  host: string,
  directories: string[] = certsDirectories(),
): Promise<RegistryTls | undefined> {
  for (const base of directories) {
    const dir = path.join(base, host);
    let names: string[];
    try {
      names = (await readdir(dir)).sort();
    } catch {
      continue;
    }
    const read = (name: string) => readFile(path.join(dir, name), 'utf8');
    const ca = await Promise.all(names.filter((n) => n.endsWith('.crt')).map(read));
    const tls: RegistryTls = { dir, ca };
    const certificate = names.find((n) => n.endsWith('.cert'));
    if (certificate) {
      const keyName = `${certificate.slice(0, -'.cert'.length)}.key`;
      if (!names.includes(keyName))
        throw new Error(`${path.join(dir, certificate)} has no key: ${keyName} is missing beside it`);
      tls.cert = await read(certificate);
      tls.key = await read(keyName);
    }
    return tls;
  }
  return undefined;
}
