import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { certsDirectories, registryTls } from './certs-d.js';

function certsDir(host: string, files: Record<string, string>): string {
  const base = mkdtempSync(path.join(tmpdir(), 'zenbuild-certs-d-'));
  mkdirSync(path.join(base, host));
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(base, host, name), content);
  return base;
}

describe('registryTls', () => {
  it('reads every *.crt as a CA and a *.cert with its *.key as the client certificate, as dockerd does', async () => {
    const base = certsDir('registry.corp:5000', {
      'b.crt': 'CA B',
      'a.crt': 'CA A',
      'client.cert': 'CERT',
      'client.key': 'KEY',
      'notes.txt': 'ignored',
    });
    expect(await registryTls('registry.corp:5000', [base])).toEqual({
      dir: path.join(base, 'registry.corp:5000'),
      ca: ['CA A', 'CA B'],
      cert: 'CERT',
      key: 'KEY',
    });
  });

  it('takes the first directory that names the host, and nothing when none does', async () => {
    const user = certsDir('registry.corp:5000', { 'ca.crt': 'USER CA' });
    const system = certsDir('registry.corp:5000', { 'ca.crt': 'SYSTEM CA' });
    expect((await registryTls('registry.corp:5000', [user, system]))?.ca).toEqual(['USER CA']);
    expect((await registryTls('registry.corp:5000', ['/nonexistent', system]))?.ca).toEqual(['SYSTEM CA']);
    expect(await registryTls('registry.corp:5001', [user, system])).toBeUndefined();
  });

  it('refuses a client certificate without its key, naming the file that is missing', async () => {
    const base = certsDir('registry.corp', { 'client.cert': 'CERT' });
    await expect(registryTls('registry.corp', [base])).rejects.toThrow(
      `${path.join(base, 'registry.corp', 'client.cert')} has no key: client.key is missing beside it`,
    );
  });

  it("looks where podman and docker look, the user's directory first", () => {
    expect(certsDirectories({ HOME: '/home/u' })).toEqual([
      '/home/u/.config/containers/certs.d',
      '/etc/containers/certs.d',
      '/etc/docker/certs.d',
    ]);
  });
});
