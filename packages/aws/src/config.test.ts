import { stackFromData } from '@zenbuild/core/backend';
import { describe, expect, it } from 'vitest';
import { awsStackProblems } from './builder.js';
import { awsImageBuilderConfigSchema } from './config.js';

describe('awsImageBuilderConfigSchema', () => {
  it("has ZenML's defaults", () => {
    expect(awsImageBuilderConfigSchema.parse({ code_build_project: 'builds' })).toEqual({
      code_build_project: 'builds',
      build_image: 'bentolor/docker-dind-awscli',
      compute_type: 'BUILD_GENERAL1_SMALL',
      custom_env_vars: {},
      implicit_container_registry_auth: true,
      build_timeout: 3600,
      queued_timeout: 3600,
    });
  });

  it('names the field that is wrong', () => {
    const issues = (input: unknown) =>
      awsImageBuilderConfigSchema
        .safeParse(input)
        .error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues({})).toEqual([expect.stringMatching(/^code_build_project: .*existing CodeBuild project/)]);
    expect(issues({ code_build_project: 'b', compute_type: 'HUGE' })?.[0]).toMatch(
      /^compute_type: must be one of/,
    );
    expect(issues({ code_build_project: 'b', region: 'Ireland' })?.[0]).toMatch(
      /^region: must be an AWS region/,
    );
    expect(issues({ code_build_project: 'b', custom_env_vars: { 'BAD-NAME': 'x' } })?.[0]).toMatch(
      /^custom_env_vars.BAD-NAME: must be an environment variable name/,
    );
    expect(
      issues({
        code_build_project: 'b',
        registry_credentials: { username: 'u', password_secret: 'a', password_parameter: 'b' },
      })?.[0],
    ).toMatch(/^registry_credentials: give exactly one of/);
    expect(issues({ code_build_project: 'b', surprise: 1 })?.[0]).toMatch(/surprise/);
  });
});

describe('awsStackProblems', () => {
  const stack = (registryCredentials: boolean) =>
    stackFromData(
      {
        name: 's',
        components: {
          image_builder: { flavor: 'aws', config: { code_build_project: 'b' } },
          container_registry: {
            flavor: 'default',
            uri: 'registry.example.com',
            ...(registryCredentials ? { credentials: { username: 'u', password: 'secret-pass' } } : {}),
          },
          artifact_store: { flavor: 's3', path: 's3://bucket/zenml' },
        },
      },
      { env: {} },
    ).stack;

  it('requires credential references when implicit auth is off', () => {
    const config = awsImageBuilderConfigSchema.parse({
      code_build_project: 'b',
      implicit_container_registry_auth: false,
    });
    expect(awsStackProblems(config, stack(false))).toEqual([
      expect.objectContaining({
        severity: 'error',
        path: 'components.image_builder.config.registry_credentials',
      }),
    ]);
  });

  it('warns that plain registry passwords are never sent to CodeBuild', () => {
    const config = awsImageBuilderConfigSchema.parse({ code_build_project: 'b' });
    expect(awsStackProblems(config, stack(true))).toEqual([
      expect.objectContaining({ severity: 'warning', path: 'components.container_registry.credentials' }),
    ]);
    expect(awsStackProblems(config, stack(false))).toEqual([]);
  });
});
