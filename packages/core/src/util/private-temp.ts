import { rmSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * Temp directories that may hold credentials (an engine's auth file, a docker config) or an engine's
 * scratch copies of them. They are 0700, carry zenbuild's pid in their name, and are removed on every
 * exit path: by their user when done, on process exit, and, for a zenbuild killed outright, by the next
 * zenbuild's `sweepPrivateTempDirs`.
 */
const PREFIX = 'zenbuild-private-';
const live = new Set<string>();

export async function makePrivateTempDir(purpose: string): Promise<string> {
  if (live.size === 0) process.once('exit', removePrivateTempDirsSync);
  const dir = await mkdtemp(path.join(tmpdir(), `${PREFIX}${process.pid}-${purpose}-`));
  live.add(dir);
  return dir;
}

export async function removePrivateTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  live.delete(dir);
  if (live.size === 0) process.off('exit', removePrivateTempDirsSync);
}

/** For exit paths that cannot wait (process exit, a forced second Ctrl-C). */
export function removePrivateTempDirsSync(): void {
  for (const dir of live) rmSync(dir, { recursive: true, force: true });
  live.clear();
}

/** Removes the private temp directories of zenbuild processes that no longer run. */
export async function sweepPrivateTempDirs(): Promise<string[]> {
  const root = tmpdir();
  const names = await readdir(root).catch(() => [] as string[]);
  const swept: string[] = [];
  for (const name of names) {
    if (!name.startsWith(PREFIX)) continue;
    const pid = Number(name.slice(PREFIX.length).split('-')[0]);
    if (!Number.isInteger(pid) || pid === process.pid || isRunning(pid)) continue;
    await rm(path.join(root, name), { recursive: true, force: true });
    swept.push(name);
  }
  return swept;
}

/** Whether a process with this pid runs (EPERM: it does, as another user's). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
