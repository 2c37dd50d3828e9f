import type { CodeRepository } from '../contracts.js';
import * as z from '../util/zod.js';

const name = z.string().min(1).optional();
const segment = (what: string) =>
  z.string({ error: `needs \`${what}\`` }).regex(/^[A-Za-z0-9_.-]+$/, `must be one ${what} name`);
const host = z
  .string()
  .regex(/^[A-Za-z0-9.-]+(:\d+)?$/, 'must be a host name such as `github.com`')
  .optional();

/**
 * The code repositories a stack declares, with ZenML's types and their fields: `github` and `bitbucket`
 * (owner and repository), `gitlab` (group and project, as ZenML's GitLab config names them; `owner` and
 * `repository` are accepted too), each with an optional `host` for a self-hosted server, and `git`, any
 * remote by its URL.
 */
export const codeRepositorySchema = z.union([
  z.strictObject({
    name,
    type: z.literal('github'),
    owner: segment('owner'),
    repository: segment('repository'),
    host,
  }),
  z.strictObject({
    name,
    type: z.literal('bitbucket'),
    owner: segment('owner'),
    repository: segment('repository'),
    host,
  }),
  z.strictObject({
    name,
    type: z.literal('gitlab'),
    group: z
      .string()
      .regex(/^[A-Za-z0-9_./-]+$/, 'must be a group path such as `team/ml`')
      .optional(),
    project: segment('project').optional(),
    owner: segment('owner').optional(),
    repository: segment('repository').optional(),
    host,
  }),
  z.strictObject({ name, type: z.literal('git'), url: z.string().min(1, 'needs the remote `url`') }),
]);

export const codeRepositoriesSchema = z.array(codeRepositorySchema);

const DEFAULT_HOSTS = { github: 'github.com', gitlab: 'gitlab.com', bitbucket: 'bitbucket.org' } as const;

/** A declared repository as core keeps it: its type, a name, and the path its remote URL must have. */
export function toCodeRepository(raw: z.output<typeof codeRepositorySchema>): CodeRepository {
  if (raw.type === 'git') return { type: 'git', name: raw.name ?? raw.url, url: raw.url };
  const owner = raw.type === 'gitlab' ? (raw.group ?? raw.owner) : raw.owner;
  const repository = raw.type === 'gitlab' ? (raw.project ?? raw.repository) : raw.repository;
  const hostName = raw.host ?? DEFAULT_HOSTS[raw.type];
  return {
    type: raw.type,
    name: raw.name ?? `${owner}/${repository}`,
    url: `https://${hostName}/${owner}/${repository}`,
  };
}

/**
 * Host and path of a git remote URL, however it is written: `https://host/owner/repo(.git)`,
 * `ssh://git@host[:port]/owner/repo.git`, `git@host:owner/repo.git`, or a local path.
 */
export function remoteIdentity(url: string): string {
  const trimmed = url
    .trim()
    .replace(/\/+$/, '')
    .replace(/\.git$/, '');
  const scp = /^[^@/\s]+@([^:/\s]+):(?!\/)(.+)$/.exec(trimmed);
  if (scp) return `${scp[1]?.toLowerCase()}/${scp[2]}`;
  try {
    const parsed = new URL(trimmed);
    if (parsed.protocol === 'file:') return parsed.pathname;
    return `${parsed.hostname.toLowerCase()}${parsed.pathname.replace(/\/+$/, '')}`;
  } catch {
    return trimmed;
  }
}

/** Whether a checkout's remote is this declared repository (ZenML's `check_remote_url`). */
export function matchesRemote(repository: CodeRepository, remoteUrl: string): boolean {
  return remoteIdentity(repository.url) === remoteIdentity(remoteUrl);
}
