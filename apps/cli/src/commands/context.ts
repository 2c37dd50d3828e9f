import {
  DigestCache,
  ensureZenbuildHome,
  hashContext,
  homeExclusion,
  invalidInput,
  walkContext,
} from '@zenbuild/core';
import { formatSize } from '../format.js';
import type { Io } from '../io.js';
import { printWarnings } from '../warnings.js';

/** `zenbuild context DIR`: what goes into a build from DIR, and why a file is missing. */
export async function contextCommand(
  io: Io,
  dir: string,
  options: { dockerignore?: string; json?: boolean },
): Promise<number> {
  const home = ensureZenbuildHome(io.env);
  // As a build walks it: zenbuild's home stays out when it lies inside DIR.
  const walked = await walkContext({
    root: dir,
    ...(options.dockerignore ? { dockerignore: options.dockerignore } : {}),
    exclude: [homeExclusion(home)],
  });
  if (!walked.root) throw invalidInput(`${dir} is not a directory.`);
  const cache = await DigestCache.open(home, walked.root);
  const { hash, stats } = await hashContext(walked.entries, { cache });
  await cache.save();
  printWarnings(io, walked.warnings);
  const files = walked.entries.filter((e) => e.type !== 'directory');
  const totalSize = files.reduce((sum, e) => sum + e.size, 0);
  if (options.json) {
    io.json({
      root: walked.root,
      ignoreFile: walked.ignoreFile ?? null,
      hash,
      fileCount: files.length,
      totalSize,
      entries: walked.entries.map((e) => ({
        path: e.path,
        type: e.type,
        mode: e.mode.toString(8).padStart(4, '0'),
        size: e.size,
        ...(e.linkTarget !== undefined ? { linkTarget: e.linkTarget } : {}),
        ...(e.digest ? { digest: e.digest } : {}),
      })),
      excluded: walked.excluded,
      cachedDigests: stats.cached,
    });
    return 0;
  }
  const lines = walked.entries.map((e) =>
    e.type === 'directory'
      ? `${' '.repeat(10)}  ${e.path}/`
      : e.type === 'symlink'
        ? `${'link'.padStart(10)}  ${e.path} -> ${e.linkTarget}`
        : `${formatSize(e.size).padStart(10)}  ${e.path}`,
  );
  if (walked.excluded.length > 0) {
    lines.push('', 'Excluded:');
    for (const x of walked.excluded)
      lines.push(`  ${x.path}  (${x.pattern !== undefined ? `by \`${x.pattern}\`` : x.reason})`);
  }
  lines.push(
    '',
    `Root:         ${walked.root}`,
    `Dockerignore: ${walked.ignoreFile ?? '(none: every file is included)'}`,
    `Files:        ${files.length}, ${formatSize(totalSize)}`,
    `Hash:         ${hash}`,
  );
  io.out(lines.join('\n'));
  return 0;
}
