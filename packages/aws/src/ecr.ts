import { DescribeRepositoriesCommand, type ECRClient } from '@aws-sdk/client-ecr';
import type { RunContext } from '@zenbuild/core/backend';
import { ZenbuildError } from '@zenbuild/core/backend';
import { BACKEND } from './errors.js';

/** `<account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repository>` split into its parts. */
export function parseEcrImage(
  repository: string,
): { registryId: string; region: string; name: string } | undefined {
  const match = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/(.+)$/.exec(repository);
  if (!match) return undefined;
  return { registryId: match[1] as string, region: match[2] as string, name: match[3] as string };
}

/**
 * ECR does not create repositories on push. Checking before anything is uploaded turns a failure deep
 * in a remote build's log into a message with the command that fixes it. A caller without
 * `ecr:DescribeRepositories` gets a warning and the build goes on.
 */
export async function ensureEcrRepository(
  ecr: ECRClient,
  repository: string,
  image: string,
  run: RunContext,
): Promise<void> {
  const where = parseEcrImage(repository);
  if (!where) return;
  try {
    await ecr.send(
      new DescribeRepositoriesCommand({ registryId: where.registryId, repositoryNames: [where.name] }),
      {
        abortSignal: run.signal,
      },
    );
  } catch (error) {
    run.signal.throwIfAborted();
    if ((error as { name?: string }).name === 'RepositoryNotFoundException') {
      throw new ZenbuildError(
        'NOT_AVAILABLE',
        `The ECR repository \`${where.name}\` does not exist in registry ${where.registryId} (${where.region}), and ECR does not create repositories on push. Create it: \`aws ecr create-repository --repository-name ${where.name} --region ${where.region}\`.`,
        { backend: BACKEND, cause: error },
      );
    }
    run.emit({
      type: 'warning',
      image,
      message: `Could not check that the ECR repository \`${where.name}\` exists (${(error as Error).message}); building anyway.`,
    });
  }
}
