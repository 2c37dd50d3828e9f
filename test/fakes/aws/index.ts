export { localBuildEnv } from '../local-build-env.js';
export { type FakeBuild, FakeCodeBuild, ServiceError } from './codebuild.js';
export { FakeS3 } from './s3.js';
export { type FakeAws, type FakeAwsOptions, startFakeAws } from './server.js';

/** Credentials the SDK's default chain picks up from the environment; the fake accepts this key. */
export const FAKE_AWS_ENV = {
  AWS_ACCESS_KEY_ID: 'AKIDFAKE',
  AWS_SECRET_ACCESS_KEY: 'fake-secret-key',
  AWS_REGION: 'us-east-1',
  // The SDK would otherwise read the machine's ~/.aws files.
  AWS_CONFIG_FILE: '/nonexistent-zenbuild-aws-config',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent-zenbuild-aws-credentials',
};
