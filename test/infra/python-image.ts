import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const DOCKER_CLI = '/usr/bin/docker';
export const PYTHON_IMAGE = 'zenbuild-test/debian-py:bookworm';
export const TEST_WHEEL = { name: 'zbtest', version: '1.0', value: 'from the zenbuild test wheel' };

/** The Debian mirror of this machine's apt sources, over plain http (so apt inside builds uses it too). */
function debianMirror(): string {
  const sources = ['/etc/apt/sources.list', '/etc/apt/sources.list.d/debian.sources']
    .map((file) => {
      try {
        return readFileSync(file, 'utf8');
      } catch {
        return '';
      }
    })
    .join('\n');
  const mirror = sources.match(/https?:\/\/\S+\/debian(?=\s|$)/m)?.[0];
  if (!mirror) throw new Error('No Debian mirror found in the apt sources.');
  return mirror.replace(/^https:/, 'http:');
}

function run(command: string, args: string[], options: { input?: Buffer } = {}) {
  const result = spawnSync(command, args, { maxBuffer: 512 * 1024 * 1024, ...options });
  if (result.status !== 0)
    throw new Error(
      `${command} ${args.slice(0, 3).join(' ')} failed: ${result.stderr?.toString().slice(-2000)}`,
    );
  return result;
}

/** A tiny pure-Python wheel, written by the host's python3 (zipfile), with a correct RECORD; its file name. */
export function buildWheel(
  dir: string,
  wheel: { name: string; version: string; value: string } = TEST_WHEEL,
): string {
  const script = `
import base64, hashlib, zipfile, sys
name, version, value, out = sys.argv[1:5]
files = {
  f"{name}/__init__.py": f"VALUE = {value!r}\\n",
  f"{name}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n",
  f"{name}-{version}.dist-info/WHEEL": "Wheel-Version: 1.0\\nGenerator: zenbuild-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
record = [f"{p},sha256={base64.urlsafe_b64encode(hashlib.sha256(c.encode()).digest()).rstrip(b'=').decode()},{len(c.encode())}" for p, c in files.items()]
files[f"{name}-{version}.dist-info/RECORD"] = "\\n".join(record + [f"{name}-{version}.dist-info/RECORD,,"]) + "\\n"
with zipfile.ZipFile(f"{out}/{name}-{version}-py3-none-any.whl", "w") as z:
  for p, c in files.items(): z.writestr(p, c)
`;
  run('python3', ['-c', script, wheel.name, wheel.version, wheel.value, dir]);
  return `${wheel.name}-${wheel.version}-py3-none-any.whl`;
}

/**
 * A realistic Python parent image, built offline: Debian bookworm (debootstrap from the local mirror)
 * with python3 and pip, an `app` user, and a wheel in /wheels for `--find-links` (no PyPI here).
 * About 40 s the first time; kept in the Docker daemon afterwards.
 */
export function ensurePythonImage(): string {
  if (spawnSync(DOCKER_CLI, ['image', 'inspect', PYTHON_IMAGE], { stdio: 'ignore' }).status === 0)
    return PYTHON_IMAGE;
  const root = mkdtempSync(path.join(tmpdir(), 'zenbuild-debian-'));
  try {
    run('debootstrap', [
      '--variant=minbase',
      '--include=python3,python3-pip,ca-certificates',
      'bookworm',
      root,
      debianMirror(),
    ]);
    writeFileSync(path.join(root, 'usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 101\n', { mode: 0o755 });
    run('chroot', [root, 'apt-get', 'clean']);
    rmSync(path.join(root, 'var/lib/apt/lists'), { recursive: true, force: true });
    mkdirSync(path.join(root, 'var/lib/apt/lists/partial'), { recursive: true });
    appendFileSync(path.join(root, 'etc/passwd'), 'app:x:1000:1000:app:/app:/bin/sh\n');
    appendFileSync(path.join(root, 'etc/group'), 'app:x:1000:\n');
    mkdirSync(path.join(root, 'wheels'));
    buildWheel(path.join(root, 'wheels'));
    const tar = run('tar', ['-C', root, '--numeric-owner', '-cf', '-', '.']);
    run(
      DOCKER_CLI,
      [
        'import',
        '-c',
        'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        '-c',
        'CMD ["bash"]',
        '-',
        PYTHON_IMAGE,
      ],
      {
        input: tar.stdout,
      },
    );
    return PYTHON_IMAGE;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** The same Python image in podman's storage (from the docker daemon's, once). */
export function ensurePodmanPythonImage(): string {
  const image = ensurePythonImage();
  if (spawnSync('podman', ['image', 'exists', image]).status === 0) return image;
  const saved = run(DOCKER_CLI, ['save', image]);
  run('podman', ['load'], { input: saved.stdout as Buffer });
  return image;
}
