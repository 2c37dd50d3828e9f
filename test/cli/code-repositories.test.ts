import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { repoRoot, tempHome, zenbuild } from '../helpers/cli.js';

// Real git repositories the tests create: a bare one stands in for GitHub (git's `insteadOf` sends the
// GitHub URL there), so fetch and push work offline while the remote URL is the one a team declares.
//
// Expected values come from ZenML's code: what counts as a local change and when a repository serves
// (src/zenml/code_repositories/git/local_git_repository_context.py: `is_dirty` counts untracked files
// unless ZENML_CODE_REPOSITORY_IGNORE_UNTRACKED_FILES, `has_local_changes` fetches and compares with the
// remote branch), which files a code archive holds and its name (src/zenml/utils/code_utils.py:
// CodeArchive's `git ls-files --cached --others --modified --exclude-standard`, `.zen` left out, the
// SHA-1 of the archive under `code_uploads/`), and the order of sources (src/zenml/config/
// build_configuration.py: `should_include_files`, `should_download_files`).

const { open } = inject('registries');
const REMOTE = 'https://github.com/team/ml.git';
const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
};

function git(cwd: string, ...args: string[]): string {
  const result = spawnSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...GIT_ENV } });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
  return result.stdout.trim();
}

/** A clean, pushed checkout of team/ml with a pipeline in `pipelines/`, and a stack that declares it. */
function checkout(options: { docker?: Record<string, unknown>; remote?: string } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-repo-'));
  const bare = path.join(dir, 'remote.git');
  const work = path.join(dir, 'work');
  git(dir, 'init', '--quiet', '--bare', '--initial-branch=main', bare);
  git(dir, 'init', '--quiet', '--initial-branch=main', work);
  git(work, 'remote', 'add', 'origin', options.remote ?? REMOTE);
  git(work, 'config', `url.${bare}.insteadOf`, options.remote ?? REMOTE);
  const src = path.join(work, 'pipelines');
  mkdirSync(path.join(src, '.zen'), { recursive: true });
  writeFileSync(path.join(src, '.zen', 'config.yaml'), 'active: true\n');
  writeFileSync(path.join(src, 'train.py'), 'print("v1")\n');
  writeFileSync(path.join(work, '.gitignore'), '*.log\n');
  writeFileSync(
    path.join(src, 'pipeline.yaml'),
    JSON.stringify({
      name: `repo${Math.random().toString(36).slice(2, 8)}`,
      settings: {
        docker: {
          parent_image: inject('baseImage'),
          install_stack_requirements: false,
          environment: { TEAM: 'ml' },
          ...options.docker,
        },
      },
    }),
  );
  const store = path.join(dir, 'artifacts');
  writeFileSync(
    path.join(dir, 'stack.yaml'),
    stringify({
      name: 'team-git',
      code_repositories: [{ name: 'ml', type: 'github', owner: 'team', repository: 'ml' }],
      components: {
        image_builder: { flavor: 'local' },
        container_registry: { flavor: 'default', uri: open },
        artifact_store: { flavor: 'local', path: store },
      },
    }),
  );
  git(work, 'add', '.');
  git(work, 'commit', '--quiet', '-m', 'first');
  git(work, 'push', '--quiet', 'origin', 'main');
  const home = tempHome();
  const run = (command: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}) =>
    zenbuild(
      [command, path.join(src, 'pipeline.yaml'), '--stack', path.join(dir, 'stack.yaml'), '--json', ...extra],
      { ZENBUILD_HOME: home, ...env },
      repoRoot,
      120_000,
    );
  return { dir, work, src, store, home, run, uploads: () => readdirOr(path.join(store, 'code_uploads')) };
}

const readdirOr = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);

describe('code from a declared code repository', () => {
  it('a clean, pushed checkout: no code in the image, no archive, and the record names the commit', async () => {
    const { run, work, uploads, home } = checkout();
    const head = git(work, 'rev-parse', 'HEAD');
    const plan = run('plan');
    expect(plan.code).toBe(0);
    const planned = JSON.parse(plan.stdout);
    expect(planned.code).toMatchObject({
      sources: ['repository'],
      repository: { name: 'ml', url: 'https://github.com/team/ml', commit: head, subdirectory: 'pipelines' },
    });
    expect(planned.images.orchestrator).toMatchObject({ codeFrom: 'repository', containsCode: false });

    const built = run('build');
    expect(built.stderr).not.toMatch(/^zenbuild:/m);
    expect(built.code).toBe(0);
    expect(JSON.parse(built.stdout)).toMatchObject({
      containsCode: false,
      code: { repository: 'ml', url: 'https://github.com/team/ml', commit: head, subdirectory: 'pipelines' },
    });
    expect(built.stderr).toContain(`The steps get their code from ml at commit ${head.slice(0, 12)}`);
    expect(uploads()).toEqual([]);
    const { id } = JSON.parse(built.stdout);
    const shown = zenbuild(['builds', 'show', id], { ZENBUILD_HOME: home });
    expect(shown.stdout).toContain(
      `Code:     ml (https://github.com/team/ml) at commit ${head}, folder pipelines`,
    );
  }, 180_000);

  it('reuses the build across commits: new code, the same checksum, and the record has the new commit', async () => {
    const { run, work, src } = checkout();
    const first = JSON.parse(run('build').stdout);
    writeFileSync(path.join(src, 'train.py'), 'print("v2")\n');
    git(work, 'commit', '--quiet', '-am', 'second');
    git(work, 'push', '--quiet', 'origin', 'main');
    const head = git(work, 'rev-parse', 'HEAD');
    const second = run('build');
    expect(second.code).toBe(0);
    const record = JSON.parse(second.stdout);
    expect(record).toMatchObject({
      id: first.id,
      checksum: first.checksum,
      reused: true,
      code: { commit: head },
    });
    expect(first.code.commit).not.toBe(head);
    expect(second.stderr).toContain(`Reusing build ${first.id}`);
    // `--build ID` names the current commit too: the given build's images get this run's code.
    const given = run('build', ['--build', first.id]);
    expect(given.code).toBe(0);
    expect(JSON.parse(given.stdout)).toMatchObject({ id: first.id, reused: true, code: { commit: head } });
  }, 180_000);

  it('local changes: plan names the files, and the code goes to the artifact store as an archive, once', async () => {
    const { run, work, src, uploads } = checkout();
    writeFileSync(path.join(src, 'train.py'), 'print("edited")\n'); // modified
    writeFileSync(path.join(src, 'staged.py'), 'x = 1\n');
    git(work, 'add', 'pipelines/staged.py'); // staged
    writeFileSync(path.join(src, 'new.py'), 'y = 2\n'); // untracked
    writeFileSync(path.join(src, 'debug.log'), 'ignored\n'); // ignored: not a change
    const planned = JSON.parse(run('plan').stdout);
    expect(planned.code.sources).toEqual(['artifact-store']);
    expect(planned.code.changes.sort()).toEqual([
      'pipelines/new.py',
      'pipelines/staged.py',
      'pipelines/train.py',
    ]);
    expect(planned.code.repositoryUnusable).toMatch(/^the checkout has local changes: pipelines\//);

    const built = run('build');
    expect(built.code).toBe(0);
    const record = JSON.parse(built.stdout);
    expect(record.code.path).toMatch(/\/artifacts\/code_uploads\/[0-9a-f]{40}\.tar\.gz$/);
    expect(built.stderr).toMatch(
      /Uploaded the code \(\d+ files, \d+ bytes\) to .*; not from the code repository: the checkout has local changes/,
    );
    expect(uploads()).toEqual([path.basename(record.code.path)]);
    // What the archive holds: the source root's files as git sees them, not ignored ones, not .zen.
    const listed = spawnSync('tar', ['-tzf', record.code.path], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter(Boolean);
    expect(listed.sort()).toEqual(['new.py', 'pipeline.yaml', 'staged.py', 'train.py']);

    const again = run('build');
    expect(again.stderr).toContain(`The code is already in ${record.code.path}; nothing uploaded.`);
    expect(JSON.parse(again.stdout).code).toEqual(record.code);
    expect(uploads()).toHaveLength(1);
  }, 180_000);

  it('names at most ten changed files, then a count', () => {
    const { run, src } = checkout();
    for (let i = 0; i < 13; i++) writeFileSync(path.join(src, `extra${String(i).padStart(2, '0')}.py`), '\n');
    const result = run('plan', []);
    expect(JSON.parse(result.stdout).code.repositoryUnusable).toMatch(/pipelines\/extra09\.py and 3 more$/);
    const text = zenbuild([
      'plan',
      path.join(src, 'pipeline.yaml'),
      '--stack',
      path.join(path.dirname(path.dirname(src)), 'stack.yaml'),
    ]);
    expect(text.stdout).toMatch(
      /^Code: from a code archive in the artifact store .*, not the code repository: the checkout has local changes: .* and 3 more\.$/m,
    );
  });

  it('untracked files do not count with ZENML_CODE_REPOSITORY_IGNORE_UNTRACKED_FILES', () => {
    const { run, src } = checkout();
    writeFileSync(path.join(src, 'scratch.py'), '\n');
    expect(JSON.parse(run('plan').stdout).code.sources).toEqual(['artifact-store']);
    const ignoring = JSON.parse(
      run('plan', [], { ZENML_CODE_REPOSITORY_IGNORE_UNTRACKED_FILES: 'true' }).stdout,
    );
    expect(ignoring.code.sources).toEqual(['repository']);
  });

  it('an unpushed commit, or a remote that is not declared, falls through to the artifact store and says why', () => {
    const unpushed = checkout();
    writeFileSync(path.join(unpushed.src, 'train.py'), 'print("local")\n');
    git(unpushed.work, 'commit', '--quiet', '-am', 'not pushed');
    expect(JSON.parse(unpushed.run('plan').stdout).code).toMatchObject({
      sources: ['artifact-store'],
      repositoryUnusable: 'the branch main has commits the remote origin does not have',
    });
    const other = checkout({ remote: 'git@github.com:someone/else.git' });
    expect(JSON.parse(other.run('plan').stdout).code.repositoryUnusable).toMatch(
      /^no remote of the checkout .* is a declared code repository \(https:\/\/github\.com\/team\/ml\)$/,
    );
    // The SSH form of the declared remote is the same repository.
    const ssh = checkout({ remote: 'git@github.com:team/ml.git' });
    expect(JSON.parse(ssh.run('plan').stdout).code.sources).toEqual(['repository']);
  });

  it('settings that allow no way to get the code are an error before anything is built', () => {
    const { run, src } = checkout({
      docker: { allow_download_from_artifact_store: false, allow_including_files_in_images: false },
    });
    writeFileSync(path.join(src, 'dirty.py'), '\n');
    const planned = JSON.parse(run('plan').stdout);
    expect(planned.code.nowhere).toEqual(['orchestrator']);
    const built = run('build');
    expect(built.code).toBe(2);
    expect(built.stderr).toMatch(
      /The steps of orchestrator would have no code: .*allow_download_from_code_repository.*; here the checkout has local changes: pipelines\/dirty\.py.*allow_download_from_artifact_store/,
    );
  });
});
