import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { recordOrigin } from './origin.js';

// The variables are the CI systems' own, as their docs list them: GitHub Actions' default environment
// variables (GITHUB_RUN_ID, GITHUB_SERVER_URL, GITHUB_REPOSITORY), GitLab CI's predefined variables
// (CI_JOB_ID, CI_JOB_URL), CodeBuild's environment variables (CODEBUILD_BUILD_ID, CODEBUILD_BUILD_URL),
// and Cloud Build's default substitutions (BUILD_ID, PROJECT_ID), which a step gets through `env`.
describe('who made a build', () => {
  it('names this machine and user outside CI', () => {
    expect(recordOrigin({})).toEqual({ host: os.hostname(), user: os.userInfo().username });
  });

  it.each([
    [
      'GitHub Actions',
      {
        GITHUB_ACTIONS: 'true',
        GITHUB_RUN_ID: '77',
        GITHUB_SERVER_URL: 'https://github.com',
        GITHUB_REPOSITORY: 'team/ml',
      },
      { provider: 'github-actions', runId: '77', url: 'https://github.com/team/ml/actions/runs/77' },
    ],
    [
      'GitLab CI',
      { GITLAB_CI: 'true', CI_PIPELINE_ID: '5', CI_JOB_ID: '51', CI_JOB_URL: 'https://gitlab.example/j/51' },
      { provider: 'gitlab-ci', runId: '51', url: 'https://gitlab.example/j/51' },
    ],
    [
      'CodeBuild',
      { CODEBUILD_BUILD_ID: 'builds:4f1c', CODEBUILD_BUILD_URL: 'https://console.aws/b/4f1c' },
      { provider: 'codebuild', runId: 'builds:4f1c', url: 'https://console.aws/b/4f1c' },
    ],
    ['Cloud Build', { BUILD_ID: 'b-123', PROJECT_ID: 'p' }, { provider: 'cloud-build', runId: 'b-123' }],
  ])('records the %s run', (_name, env, ci) => {
    expect(recordOrigin(env).ci).toEqual(ci);
  });

  it('ignores a CI flag without a run id', () => {
    expect(recordOrigin({ GITHUB_ACTIONS: 'true' }).ci).toBeUndefined();
  });
});
