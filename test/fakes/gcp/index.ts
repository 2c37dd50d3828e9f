export { DEFAULT_LOGS_BUCKET, FakeCloudBuild, type FakeCloudBuildBuild } from './cloudbuild.js';
export { FakeGcs } from './gcs.js';
export { type FakeGcp, type FakeGcpOptions, startFakeGcp } from './server.js';

/** The client side of the fakes: no metadata-server probe, no real credentials. */
export const FAKE_GCP_ENV = {
  METADATA_SERVER_DETECTION: 'none',
  GOOGLE_CLOUD_PROJECT: 'demo-project',
};
