import os from 'node:os';
import type { RecordOrigin } from '../contracts.js';

/**
 * Who is building and where, for the record: a teammate who reuses a build sees that CI made it, and
 * which run. The CI systems' own variables: GitHub Actions, GitLab CI, CodeBuild, Cloud Build (whose
 * build id reaches a step only when the step's `env` passes `BUILD_ID=$BUILD_ID`).
 */
export function recordOrigin(env: NodeJS.ProcessEnv = process.env): RecordOrigin {
  const origin: RecordOrigin = { host: os.hostname(), user: userName(env) };
  const ci = ciRun(env);
  if (ci) origin.ci = ci;
  return origin;
}

function ciRun(env: NodeJS.ProcessEnv): RecordOrigin['ci'] {
  if (env.GITHUB_ACTIONS === 'true' && env.GITHUB_RUN_ID) {
    const url =
      env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY
        ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
        : undefined;
    return { provider: 'github-actions', runId: env.GITHUB_RUN_ID, ...(url ? { url } : {}) };
  }
  if (env.GITLAB_CI === 'true' && (env.CI_JOB_ID || env.CI_PIPELINE_ID)) {
    const runId = env.CI_JOB_ID ?? env.CI_PIPELINE_ID ?? '';
    return { provider: 'gitlab-ci', runId, ...(env.CI_JOB_URL ? { url: env.CI_JOB_URL } : {}) };
  }
  if (env.CODEBUILD_BUILD_ID) {
    return {
      provider: 'codebuild',
      runId: env.CODEBUILD_BUILD_ID,
      ...(env.CODEBUILD_BUILD_URL ? { url: env.CODEBUILD_BUILD_URL } : {}),
    };
  }
  if (env.BUILD_ID && env.PROJECT_ID) return { provider: 'cloud-build', runId: env.BUILD_ID };
  return undefined;
}

function userName(env: NodeJS.ProcessEnv): string {
  try {
    return os.userInfo().username;
  } catch {
    // A uid with no passwd entry (some containers): what the environment says, else the uid.
    return env.USER ?? env.LOGNAME ?? String(process.getuid?.() ?? 'unknown');
  }
}
