import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A docker config that names a real credential helper program (`docker-credential-zbtest`, on the PATH
 * it returns): it reads the server on stdin, answers the docker-credential-* JSON and logs each request,
 * so a test can prove the helper, not some other source, gave the credentials.
 */
export function credentialHelperConfig(options: {
  registry: string;
  username: string;
  password: string;
  /** `credsStore` (one helper for every registry) or `credHelpers` (per registry). */
  via: 'credsStore' | 'credHelpers';
}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-dc-'));
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  const helper = path.join(bin, 'docker-credential-zbtest');
  writeFileSync(
    helper,
    `#!/bin/sh\nread server\necho "$1 $server" >> "${dir}/asked"\nprintf '{"ServerURL":"%s","Username":"${options.username}","Secret":"${options.password}"}' "$server"\n`,
  );
  chmodSync(helper, 0o755);
  const config =
    options.via === 'credsStore'
      ? { credsStore: 'zbtest' }
      : { credHelpers: { [options.registry]: 'zbtest' } };
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  const asked = path.join(dir, 'asked');
  return {
    env: { DOCKER_CONFIG: dir, PATH: `${bin}:${process.env.PATH}` },
    /** What the helper was asked, one `get SERVER` per line. */
    asked: () => (existsSync(asked) ? readFileSync(asked, 'utf8') : ''),
  };
}
