import {
  chmodSync,
  constants,
  copyFileSync,
  lutimesSync,
  mkdirSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import type { WriteContextOptions } from '../contracts.js';
import { ByteProgress } from '../engine/byte-progress.js';
import { ZenbuildError } from '../errors.js';
import { EventLoopYield, yieldToEventLoop } from '../util/yield.js';
import { assertUnchanged } from './unchanged.js';
import type { ContextEntry } from './walk.js';

export type { WriteContextOptions } from '../contracts.js';

/**
 * Writes the entries as files into an existing empty directory, exactly as unpacking the context's tar
 * would (the archive's normalised modes, its fixed time, links as links), without making the archive:
 * for engines that build from a directory. Files are copied by the kernel (copy_file_range, or a
 * reflink where the filesystem has them), not read through this process and a `tar -x`: about half
 * the time.
 *
 * A source file that changed since it was walked fails the copy, as it fails the archive. On failure
 * the directory holds a partial copy: the caller removes it.
 */
export async function writeContextTo(
  entries: ContextEntry[],
  dir: string,
  { signal, onWritten }: WriteContextOptions = {},
): Promise<void> {
  const pause = new EventLoopYield();
  const progress = new ByteProgress(onWritten);
  const implicit: string[] = [];
  const made = new Set([dir]);
  const targets = entries.map((entry) => path.join(dir, entry.path));
  for (const [i, entry] of entries.entries()) {
    if (pause.due(entry.size + 512)) await yieldToEventLoop();
    if (signal?.aborted) throw new ZenbuildError('CANCELLED', 'Writing the build context was cancelled.');
    const target = targets[i] as string;
    if (entry.type === 'directory') {
      mkdirSync(target, { recursive: true });
      chmodSync(target, entry.mode);
      made.add(target);
      continue;
    }
    // A generated file may sit in a directory that has no entry of its own.
    const parent = path.dirname(target);
    if (!made.has(parent)) {
      const created = mkdirSync(parent, { recursive: true });
      for (let d = parent; created && d.length >= created.length; d = path.dirname(d)) implicit.push(d);
      made.add(parent);
    }
    if (entry.type === 'symlink') {
      symlinkSync(entry.linkTarget ?? '', target);
      continue;
    }
    const source = entry.source;
    if (!source || source.kind === 'generated') {
      writeFileSync(target, source?.content ?? Buffer.alloc(0));
    } else {
      assertUnchanged(source, statSync(source.absolute));
      copyFileSync(source.absolute, target, constants.COPYFILE_FICLONE);
      // Checked again after the copy: a write during it would otherwise go unnoticed.
      assertUnchanged(source, statSync(source.absolute));
    }
    chmodSync(target, entry.mode);
    progress.add(entry.size);
  }
  // Times last, children before their directory, since creating an entry changes its directory's time.
  const epoch = new Date(0);
  for (let i = entries.length - 1; i >= 0; i--) {
    const target = targets[i] as string;
    if (entries[i]?.type === 'symlink') lutimesSync(target, epoch, epoch);
    else utimesSync(target, epoch, epoch);
  }
  // Directories without an entry get it too (tar -x leaves them at the time of unpacking), so that
  // what an engine copies from the directory is the same on every build.
  for (const dir of implicit) utimesSync(dir, epoch, epoch);
  progress.finish();
}
