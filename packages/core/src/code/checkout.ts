import path from 'node:path';
import type { CodeRepository } from '../contracts.js';
import { runProgram } from '../util/run-program.js';
import { matchesRemote } from './repositories.js';

/** The source root's place in a declared repository's checkout, and whether its code can come from there. */
export interface CheckoutState {
  /** The declared repository whose remote the checkout has, when one matches. */
  repository?: CodeRepository;
  /** The checkout's root. */
  root?: string;
  commit?: string;
  /** The source root relative to the checkout's root (`.` for the root itself). */
  subdirectory?: string;
  /** Files with local changes (modified, staged, untracked), as git names them. */
  changes: string[];
  /** Why the code cannot come from the repository; undefined when it can. */
  unusable?: string;
}

const MAX_NAMED_CHANGES = 10;

/** `a, b, c` and `and N more` past ten, as `plan` names changed files. */
export function describeChanges(files: string[]): string {
  const named = files.slice(0, MAX_NAMED_CHANGES).join(', ');
  return files.length > MAX_NAMED_CHANGES ? `${named} and ${files.length - MAX_NAMED_CHANGES} more` : named;
}

/**
 * Whether the code of `sourceRoot` can be downloaded from a declared repository at run time, as ZenML
 * decides it: the source root is inside a git checkout, one of its remotes is a declared repository,
 * the checkout has no local changes (modified, staged, and untracked files unless
 * ZENML_CODE_REPOSITORY_IGNORE_UNTRACKED_FILES is set) and no commits its remote lacks. Git itself
 * answers (the git CLI), so its config, worktrees and ignore rules apply as they do for the user.
 */
export async function inspectCheckout(
  sourceRoot: string,
  repositories: CodeRepository[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<CheckoutState> {
  if (repositories.length === 0) return { changes: [], unusable: 'the stack declares no code repository' };
  const git = (args: string[], cwd: string) =>
    runProgram('git', args, {
      cwd,
      env: { ...env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' },
      maxBuffer: 64 << 20,
    });
  let root: string;
  try {
    root = (await git(['rev-parse', '--show-toplevel'], sourceRoot)).trim();
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    return {
      changes: [],
      unusable: missing
        ? 'git is not installed'
        : `the source root ${sourceRoot} is not inside a git checkout`,
    };
  }
  // Every remote's URL in one call: `remote.<name>.url <url>` lines, in the config's order.
  const urls = await git(['config', '--get-regexp', '^remote\\..*\\.url$'], root).catch(() => '');
  let repository: CodeRepository | undefined;
  let remote: string | undefined;
  for (const line of urls.split('\n')) {
    const match = /^remote\.(.+)\.url (.*)$/.exec(line);
    const declared = match && repositories.find((r) => matchesRemote(r, match[2] ?? ''));
    if (declared) {
      repository = declared;
      remote = match[1];
      break;
    }
  }
  if (!repository || !remote) {
    return {
      root,
      changes: [],
      unusable: `no remote of the checkout ${root} is a declared code repository (${repositories.map((r) => r.url).join(', ')})`,
    };
  }
  const commit = (await git(['rev-parse', 'HEAD'], root).catch(() => '')).trim();
  const subdirectory = path.relative(root, path.resolve(sourceRoot)).split(path.sep).join('/') || '.';
  const base = { repository, root, subdirectory, ...(commit ? { commit } : {}) };
  if (!commit) return { ...base, changes: [], unusable: `the checkout ${root} has no commit yet` };

  const ignoreUntracked = /^(1|true|yes|on|y|t)$/i.test(
    env.ZENML_CODE_REPOSITORY_IGNORE_UNTRACKED_FILES ?? '',
  );
  const status = await git(
    ['status', '--porcelain=v1', '-z', `--untracked-files=${ignoreUntracked ? 'no' : 'all'}`],
    root,
  );
  const changes = statusFiles(status);
  if (changes.length > 0) {
    return {
      ...base,
      changes,
      unusable: `the checkout has local changes: ${describeChanges(changes)}`,
    };
  }
  const branch = (await git(['symbolic-ref', '--quiet', '--short', 'HEAD'], root).catch(() => '')).trim();
  if (!branch) return { ...base, changes, unusable: 'the checkout is in detached HEAD state' };
  // As ZenML does: fetch, then compare with the remote's branch. A fetch that fails (offline) leaves
  // the last fetched state, which is what is compared then.
  await git(['fetch', '--quiet', remote], root).catch(() => undefined);
  const pushed = (
    await git(['rev-parse', '--verify', '--quiet', `refs/remotes/${remote}/${branch}`], root).catch(() => '')
  ).trim();
  if (!pushed) return { ...base, changes, unusable: `the branch ${branch} is not on the remote ${remote}` };
  if (pushed !== commit)
    return {
      ...base,
      changes,
      unusable: `the branch ${branch} has commits the remote ${remote} does not have`,
    };
  return { ...base, changes };
}

/** The paths `git status --porcelain -z` lists: a rename's entry carries its old path after it, skipped. */
function statusFiles(output: string): string[] {
  const fields = output.split('\0').filter(Boolean);
  const files: string[] = [];
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i] as string;
    files.push(field.slice(3));
    if (field[0] === 'R' || field[0] === 'C') i++;
  }
  return files;
}
