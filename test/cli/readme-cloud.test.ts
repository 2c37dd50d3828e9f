import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FAKE_AWS_ENV, type FakeAws, localBuildEnv, startFakeAws } from '../fakes/aws/index.js';
import { FAKE_GCP_ENV, type FakeGcp, startFakeGcp } from '../fakes/gcp/index.js';
import { example, repoRoot, zenbuildAsync } from '../helpers/cli.js';

// The README's cloud commands, run from the repository as a contributor runs them (`pnpm zenbuild`,
// the CLI with the repository's root node_modules). What they must show: the backend package is found
// and the build reaches the service. The build itself then stops where this offline machine must
// stop it: the example registry is ECR (login) or Artifact Registry, and its parent comes from Docker Hub.
let aws: FakeAws | undefined;
let gcp: FakeGcp | undefined;
afterAll(async () => {
  await aws?.close();
  await gcp?.close();
});

const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');

describe("the README's cloud commands, from the repository", () => {
  it('zenbuild build ... --stack examples/stacks/aws.yaml reaches CodeBuild', async () => {
    const command = 'zenbuild build examples/pipelines/custom-parent.yaml --stack examples/stacks/aws.yaml';
    expect(readme).toContain(command);
    aws = await startFakeAws({
      projects: ['zenml-builds'],
      buckets: ['my-bucket'],
      region: 'eu-west-1',
      ecrRepositories: ['123456789012/zenml'],
      buildEnv: localBuildEnv(),
    });
    const result = await zenbuildAsync(command.split(' ').slice(1), {
      ...FAKE_AWS_ENV,
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL: aws.endpoint,
    });
    expect(result.stderr).not.toMatch(/is not installed|internal error/);
    expect(aws.codebuild.builds.size).toBe(1);
    // Here the remote build stops at the ECR login (this machine has no aws CLI and no ECR).
    expect(result.stderr).toMatch(
      /zenbuild: The CodeBuild build zenml-builds:\S+ FAILED: phase PRE_BUILD FAILED/,
    );
    expect(result.code).toBe(1);
  }, 120_000);

  it('the gcp example stack, with the fake as its endpoint, reaches Cloud Build', async () => {
    expect(readme).toContain('`@zenbuild/gcp`');
    gcp = await startFakeGcp({ projects: ['my-project'], buckets: ['my-bucket'], buildEnv: localBuildEnv() });
    // The example stack as it is, plus the endpoints (a stack file is the only place they can go).
    const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-readme-gcp-'));
    const stack = path.join(dir, 'gcp.yaml');
    copyFileSync(example('stacks/gcp.yaml'), stack);
    writeFileSync(
      stack,
      readFileSync(stack, 'utf8').replace(
        '{ project: my-project, location: europe-west1 }',
        `{ project: my-project, location: europe-west1, api_endpoint: "${gcp.endpoint}", storage_endpoint: "${gcp.endpoint}" }`,
      ),
    );
    const result = await zenbuildAsync(
      ['build', 'examples/pipelines/custom-parent.yaml', '--stack', stack],
      FAKE_GCP_ENV,
    );
    expect(result.stderr).not.toMatch(/is not installed|internal error/);
    expect(gcp.cloudbuild.builds.size).toBe(1);
    expect(result.stderr).toMatch(/The Cloud Build build \S+ ended FAILURE/);
    expect(result.code).toBe(1);
  }, 120_000);
});
