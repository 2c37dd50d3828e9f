import { describe, expect, it } from 'vitest';
import { statusName } from './builder.js';
import { gcpImageBuilderConfigSchema, serviceAccountName } from './config.js';
import { gcpError } from './errors.js';
import { dockerBuildArgs } from './options.js';

const issues = (input: unknown) =>
  gcpImageBuilderConfigSchema.safeParse(input).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);

describe('gcpImageBuilderConfigSchema', () => {
  it("has ZenML's defaults, and an empty location means global", () => {
    expect(gcpImageBuilderConfigSchema.parse({ location: '' })).toEqual({
      cloud_builder_image: 'gcr.io/cloud-builders/docker',
      network: 'cloudbuild',
      build_timeout: 3600,
      location: undefined,
    });
  });

  it('names the field that is wrong', () => {
    expect(issues({ build_timeout: -5 })?.[0]).toMatch(/^build_timeout: must be positive/);
    expect(issues({ machine_type: 'HUGE' })?.[0]).toMatch(/^machine_type: must be one of E2_MEDIUM/);
    expect(issues({ worker_pool: 'my-pool' })?.[0]).toMatch(/^worker_pool: must be `projects\/PROJECT/);
    expect(issues({ service_account: 'builder@p.iam.gserviceaccount.com' })?.[0]).toMatch(
      /^logs_bucket: is required with `service_account`/,
    );
    expect(
      issues({ service_account: 'b@p.iam.gserviceaccount.com', logging: 'CLOUD_LOGGING_ONLY' }),
    ).toBeUndefined();
    expect(
      issues({ worker_pool: 'projects/p/locations/us-east1/workerPools/w', location: 'europe-west1' })?.[0],
    ).toMatch(/^worker_pool: is in another region/);
  });

  it('expands a service account email to its resource name', () => {
    expect(serviceAccountName('b@p.iam.gserviceaccount.com', 'p')).toBe(
      'projects/p/serviceAccounts/b@p.iam.gserviceaccount.com',
    );
  });
});

describe('dockerBuildArgs', () => {
  const request = { dockerfile: 'Dockerfile', imageName: 'gcr.io/p/zenml:t' };
  it("keeps ZenML's shape and maps options explicitly", () => {
    expect(
      dockerBuildArgs(
        { ...request, options: { buildArgs: { A: '1' }, target: 'run', noCache: true } },
        'cloudbuild',
      ),
    ).toEqual([
      'build',
      '--network=cloudbuild',
      '--build-arg',
      'A=1',
      '--target',
      'run',
      '--no-cache',
      '-f',
      'Dockerfile',
      '-t',
      'gcr.io/p/zenml:t',
      '.',
    ]);
  });
  it('refuses what Cloud Build cannot honour', () => {
    expect(() => dockerBuildArgs({ ...request, options: { squash: true } }, 'cloudbuild')).toThrow(
      /`squash`/,
    );
    expect(() => dockerBuildArgs({ ...request, options: { network: 'host' } }, 'cloudbuild')).toThrow(
      /`network`/,
    );
  });
});

describe('statusName', () => {
  it('reads numeric and string enums alike', () => {
    expect(statusName(3)).toBe('SUCCESS');
    expect(statusName(4)).toBe('FAILURE');
    expect(statusName('CANCELLED' as never)).toBe('CANCELLED');
    expect(statusName(undefined)).toBe('STATUS_UNKNOWN');
  });
});

describe('gcpError', () => {
  const call = {
    action: 'create the Cloud Build build',
    permission: 'cloudbuild.builds.create',
    role: 'roles/cloudbuild.builds.editor',
    resource: 'project `p`',
  };
  it('tells quota, invalid machine types and unknown errors apart', () => {
    const quota = gcpError(
      Object.assign(new Error('Quota exceeded for quota metric builds'), { code: 8 }),
      call,
    );
    expect(quota.code).toBe('NOT_AVAILABLE');
    expect(quota.message).toMatch(/quota exceeded/);
    const machine = gcpError(Object.assign(new Error('invalid machine type "E2_HUGE"'), { code: 3 }), call);
    expect(machine.code).toBe('INVALID_INPUT');
    expect(machine.message).toMatch(/Check `machine_type`/);
    const other = gcpError(Object.assign(new Error('boom'), { code: 13 }), call);
    expect(other.code).toBe('BUILD_FAILED');
    expect(other.message).toBe('Could not create the Cloud Build build (project `p`): boom');
  });
  it('explains missing credentials', () => {
    expect(gcpError(new Error('Could not load the default credentials.'), call).message).toMatch(
      /gcloud auth application-default login/,
    );
  });
});
