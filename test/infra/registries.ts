import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, type TestRegistries } from '@zenbuild/conformance';
import bcrypt from 'bcryptjs';
import { stopChild } from './stop-child.js';

export { freePort, type TestRegistries };

/** What the tests get to know about the registries the global setup started. */

/** Finds `docker-registry` (Debian's package), or says how to get it. */
export function registryBinary(): string {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/bin', '/usr/sbin'])) {
    const candidate = path.join(dir, 'docker-registry');
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(
    'docker-registry is not installed: run `scripts/test-infra.sh install` (Debian package docker-registry).',
  );
}

/**
 * Starts two real registries (distribution 2.8) on free loopback ports, each with its own storage in a
 * temp dir. Returns them and a function that stops exactly what was started.
 */
export async function startRegistries(): Promise<{ registries: TestRegistries; stop: () => Promise<void> }> {
  const binary = registryBinary();
  const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-registries-'));
  const user = 'zenbuild-test';
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  // Cost 4: the registry checks bcrypt on every request; at the default cost a push takes seconds.
  writeFileSync(path.join(dir, 'htpasswd'), `${user}:${bcrypt.hashSync(password, 4)}\n`);
  const children: ChildProcess[] = [];
  const start = async (name: string, auth: boolean) => {
    const port = await freePort();
    const storage = path.join(dir, name);
    mkdirSync(storage);
    const config = [
      'version: 0.1',
      'log: {level: error}',
      `storage: {filesystem: {rootdirectory: ${storage}}, delete: {enabled: true}}`,
      `http: {addr: "127.0.0.1:${port}"}`,
      ...(auth ? [`auth: {htpasswd: {realm: zenbuild-test, path: ${path.join(dir, 'htpasswd')}}}`] : []),
    ].join('\n');
    writeFileSync(path.join(dir, `${name}.yml`), config);
    // A clean environment: the registry reads every REGISTRY_* variable as a config override.
    const child = spawn(binary, ['serve', path.join(dir, `${name}.yml`)], {
      env: { PATH: process.env.PATH },
      stdio: 'ignore',
    });
    children.push(child);
    const host = `127.0.0.1:${port}`;
    await waitFor(`http://${host}/v2/`, child);
    return host;
  };
  const registries = { open: await start('open', false), auth: await start('auth', true), user, password };
  return {
    registries,
    stop: async () => {
      await Promise.all(children.map(stopChild));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A registry of its own serving TLS on `addr` (`address:port`) with the given certificate, as a registry
 * with a private CA is run: TLS in the registry itself, so the upload URLs it hands out are https (a TLS
 * front that forwards bytes would make them http).
 */
export async function startTlsRegistry(options: {
  addr: string;
  certificate: string;
  key: string;
  ca: string;
}): Promise<{ host: string; stop: () => Promise<void> }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-tls-registry-'));
  const config = [
    'version: 0.1',
    'log: {level: error}',
    `storage: {filesystem: {rootdirectory: ${path.join(dir, 'storage')}}}`,
    `http: {addr: "${options.addr}", tls: {certificate: ${options.certificate}, key: ${options.key}}}`,
  ].join('\n');
  writeFileSync(path.join(dir, 'config.yml'), config);
  const child = spawn(registryBinary(), ['serve', path.join(dir, 'config.yml')], {
    env: { PATH: process.env.PATH },
    stdio: 'ignore',
  });
  const { Agent } = await import('node:https');
  const agent = new Agent({ ca: readFileSync(options.ca) });
  await waitFor(`https://${options.addr}/v2/`, child, (url) => fetchWithAgent(url, agent));
  return {
    host: options.addr,
    stop: async () => {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The status of a GET with node's https client (fetch takes no CA of its own). */
async function fetchWithAgent(url: string, agent: import('node:https').Agent): Promise<number> {
  const { get } = await import('node:https');
  return new Promise((resolve, reject) => {
    get(url, { agent }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    }).on('error', reject);
  });
}

async function waitFor(
  url: string,
  child: ChildProcess,
  status: (url: string) => Promise<number> = async (u) => (await fetch(u)).status,
): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`docker-registry exited with code ${child.exitCode} before answering ${url}`);
    try {
      const answer = await status(url);
      if (answer === 200 || answer === 401) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry did not answer ${url} within 10 s`);
}
