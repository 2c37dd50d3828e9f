import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopChild } from './stop-child.js';

const DOCKER_CLI = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
const SOCKET = '/var/run/docker.sock';

function daemonAnswers(): boolean {
  return (
    spawnSync(DOCKER_CLI, ['version', '--format', '{{.Server.Version}}'], {
      stdio: 'ignore',
      timeout: 10_000,
    }).status === 0
  );
}

/** The pids of running dockerd processes, from /proc (no procps needed). */
function runningDockerds(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'dockerd';
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

async function waitUntilAnswers(ms: number, stillStarting: () => string | undefined): Promise<void> {
  const deadline = Date.now() + ms;
  while (!daemonAnswers()) {
    const gone = stillStarting();
    if (gone) throw new Error(gone);
    if (Date.now() > deadline) throw new Error(`dockerd did not answer on ${SOCKET} within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * A Docker daemon for the tests: the one already answering on the default socket, else one started
 * here (as root, without systemd, as scripts/test-infra.sh and CI do) and stopped at the end.
 */
export async function ensureDockerd(): Promise<() => Promise<void>> {
  if (daemonAnswers()) return async () => {};
  // A daemon that is busy (or still starting) answers late. Starting a second one would take over the
  // socket and then exit, as the data root is locked, leaving the first one unreachable: wait instead.
  const running = runningDockerds();
  if (running.length > 0) {
    await waitUntilAnswers(60_000, () =>
      runningDockerds().length === 0
        ? `dockerd (pid ${running.join(', ')}) exited while starting`
        : undefined,
    );
    return async () => {};
  }
  const dockerd = ['/usr/sbin/dockerd', '/usr/bin/dockerd'].find((p) => existsSync(p));
  if (!dockerd)
    throw new Error(
      'dockerd is not installed: run `scripts/test-infra.sh install` (Debian package docker.io).',
    );
  if (process.getuid?.() !== 0)
    throw new Error(
      `dockerd is not running on ${SOCKET}, and starting one needs root: run \`sudo scripts/test-infra.sh up\`.`,
    );
  const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-dockerd-'));
  const child: ChildProcess = spawn(
    dockerd,
    ['--host', `unix://${SOCKET}`, '--pidfile', path.join(dir, 'dockerd.pid')],
    {
      stdio: ['ignore', 'ignore', 'ignore'],
    },
  );
  await waitUntilAnswers(30_000, () =>
    child.exitCode !== null ? `dockerd exited with code ${child.exitCode}` : undefined,
  );
  return async () => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
}

/**
 * A second Docker daemon of its own (data, exec root, socket, bridge) started with `flags`, for a test of
 * daemon configuration the shared one does not have (`--insecure-registry`). It starts in about 0.2 s.
 * Its bridge is one made here, not `--bridge=none`: with that, dockerd deletes docker0, the shared
 * daemon's bridge, and every build there fails after. Needs root, as dockerd does.
 */
export async function startScratchDockerd(
  flags: string[],
): Promise<{ host: string; stop: () => Promise<void> }> {
  const dockerd = ['/usr/sbin/dockerd', '/usr/bin/dockerd'].find((p) => existsSync(p));
  if (!dockerd) throw new Error('dockerd is not installed: run `scripts/test-infra.sh install`.');
  const dir = mkdtempSync(path.join(tmpdir(), 'zb-dockerd-'));
  const socket = path.join(dir, 'docker.sock');
  const bridge = `zbtest${Math.random().toString(36).slice(2, 8)}`;
  const ip = (...args: string[]) => {
    const result = spawnSync('ip', args, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${result.stderr}`);
  };
  ip('link', 'add', bridge, 'type', 'bridge');
  // A subnet of the 100.64.0.0/10 shared range, which docker's default pools do not use.
  ip(
    'addr',
    'add',
    `100.${64 + Math.floor(Math.random() * 63)}.${Math.floor(Math.random() * 255)}.1/24`,
    'dev',
    bridge,
  );
  const child = spawn(
    dockerd,
    [
      '--host',
      `unix://${socket}`,
      '--data-root',
      path.join(dir, 'data'),
      '--exec-root',
      path.join(dir, 'exec'),
      '--pidfile',
      path.join(dir, 'dockerd.pid'),
      `--bridge=${bridge}`,
      '--iptables=false',
      '--ip-masq=false',
      ...flags,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.on('data', (chunk) => {
    log = `${log}${chunk}`.slice(-4000);
  });
  const deadline = Date.now() + 30_000;
  const answers = () =>
    spawnSync(DOCKER_CLI, ['--host', `unix://${socket}`, 'version'], { stdio: 'ignore', timeout: 5000 })
      .status === 0;
  while (!answers()) {
    const problem =
      child.exitCode !== null
        ? `a second dockerd exited (${child.exitCode}): ${log}`
        : Date.now() > deadline
          ? `a second dockerd did not answer within 30 s: ${log}`
          : undefined;
    if (problem) {
      child.kill('SIGKILL');
      spawnSync('ip', ['link', 'delete', bridge]);
      throw new Error(problem);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host: `unix://${socket}`,
    stop: async () => {
      await stopChild(child);
      spawnSync('ip', ['link', 'delete', bridge]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const BUSYBOX_IMAGE = 'zenbuild-test/busybox:1.35';

/** `scripts/test-infra.sh images`: the one recipe for the offline base image, shared with `up`. */
function importBusybox(engine: 'docker' | 'podman'): void {
  const script = fileURLToPath(new URL('../../scripts/test-infra.sh', import.meta.url));
  const imported = spawnSync('bash', [script, 'images', engine], { encoding: 'utf8' });
  if (imported.status !== 0)
    throw new Error(
      `importing ${BUSYBOX_IMAGE} into ${engine} failed: ${imported.stderr} (scripts/test-infra.sh install)`,
    );
}

/** An offline base image in Docker (no Docker Hub here). */
export function ensureBusyboxImage(): string {
  if (spawnSync(DOCKER_CLI, ['image', 'inspect', BUSYBOX_IMAGE], { stdio: 'ignore' }).status !== 0)
    importBusybox('docker');
  return BUSYBOX_IMAGE;
}

export const PODMAN_BUSYBOX_IMAGE = `localhost/${BUSYBOX_IMAGE}`;

/** The same offline base image in Podman's own storage. */
export function ensurePodmanBusyboxImage(): string {
  if (spawnSync('podman', ['image', 'exists', PODMAN_BUSYBOX_IMAGE]).status !== 0) importBusybox('podman');
  return PODMAN_BUSYBOX_IMAGE;
}

/** Runs a command in a container of `image` with podman and returns its output. */
export function runInPodman(image: string, command: string[]): string {
  // The test registries are plain http on loopback, which podman (unlike docker) does not assume.
  const result = spawnSync('podman', ['run', '--rm', '--tls-verify=false', image, ...command], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (result.status !== 0)
    throw new Error(`podman run ${image} ${command.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

/** Runs a command in a container of `image` and returns its output (the docker CLI, as a user would). */
export function runInImage(image: string, command: string[]): string {
  const result = spawnSync(DOCKER_CLI, ['run', '--rm', image, ...command], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (result.status !== 0)
    throw new Error(`docker run ${image} ${command.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

/** `history --no-trunc` of an image, with the docker CLI or podman. */
export function imageHistory(cli: 'docker' | 'podman', image: string): string {
  return spawnSync(cli === 'docker' ? DOCKER_CLI : 'podman', ['history', '--no-trunc', image], {
    encoding: 'utf8',
  }).stdout;
}

/** The image as `save` writes it (every layer), with the docker CLI or podman. */
export function savedImage(cli: 'docker' | 'podman', image: string): Buffer {
  const archive = path.join(mkdtempSync(path.join(tmpdir(), 'zenbuild-saved-')), 'image.tar');
  try {
    const result = spawnSync(cli === 'docker' ? DOCKER_CLI : 'podman', ['save', '-o', archive, image], {
      encoding: 'utf8',
    });
    if (result.status !== 0) throw new Error(`${cli} save ${image} failed: ${result.stderr}`);
    return readFileSync(archive);
  } finally {
    rmSync(path.dirname(archive), { recursive: true, force: true });
  }
}

/** Removes an image from the daemon (the docker CLI), so a build has to pull it again. */
export function removeImage(image: string): void {
  const result = spawnSync(DOCKER_CLI, ['image', 'rm', image], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`docker image rm ${image} failed: ${result.stderr}`);
}

/** A label of a local image, as `docker image inspect` shows it. */
export function inspectLabel(image: string, label: string): string {
  const result = spawnSync(
    DOCKER_CLI,
    ['image', 'inspect', '--format', `{{ index .Config.Labels "${label}" }}`, image],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`docker image inspect ${image} failed: ${result.stderr}`);
  return result.stdout.trim();
}

/**
 * Gives a remote builder (which has none of this machine's images) a parent to pull: a small image
 * derived from `image`, pushed to `registry`. Derived, so that the shared local base image never gains
 * a registry digest (zenbuild ignores a digest of another name, but other tools may not).
 */
export function pushToRegistry(image: string, registry: string): string {
  const target = `${registry}/parents/${image.replace(/^[^/]*\//, '').replace(/[:]/g, '-')}:remote`;
  const build = spawnSync(DOCKER_CLI, ['build', '-t', target, '-'], {
    input: `FROM ${image}\nLABEL zenbuild.test.purpose=remote-parent\n`,
    encoding: 'utf8',
    env: { ...process.env, DOCKER_BUILDKIT: '0' },
    timeout: 60_000,
  });
  if (build.status !== 0) throw new Error(`docker build of ${target} failed: ${build.stderr}`);
  const push = spawnSync(DOCKER_CLI, ['push', target], { encoding: 'utf8', timeout: 60_000 });
  if (push.status !== 0) throw new Error(`docker push ${target} failed: ${push.stderr}`);
  return target;
}

/**
 * The paths (relative, sorted, directories with a trailing `/`) that `docker build DIR` with the classic
 * builder copies for `COPY . /c`: what the docker CLI itself sends after applying DIR's .dockerignore.
 * DIR must hold a Dockerfile that starts `FROM <image>` and copies `.` to `/c`.
 */
export function pathsDockerCopies(dir: string, tag: string): string[] {
  const build = spawnSync(DOCKER_CLI, ['build', '-q', '-t', tag, dir], {
    encoding: 'utf8',
    env: { ...process.env, DOCKER_BUILDKIT: '0' },
    timeout: 60_000,
  });
  if (build.status !== 0) throw new Error(`docker build ${dir} failed: ${build.stderr}`);
  try {
    // busybox find has no -printf: mark directories with a second listing instead.
    const all = runInImage(tag, ['find', '/c', '-mindepth', '1']).split('\n').filter(Boolean);
    const dirs = new Set(runInImage(tag, ['find', '/c', '-mindepth', '1', '-type', 'd']).split('\n'));
    return all.map((p) => `${p.slice('/c/'.length)}${dirs.has(p) ? '/' : ''}`).sort();
  } finally {
    removeImage(tag);
  }
}
