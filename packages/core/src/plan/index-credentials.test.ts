import { describe, expect, it } from 'vitest';
import { dockerPipeline, errorOf, onlyImage, plan, project } from '../__fixtures__/pipeline.js';
import { INDEX_NETRC_SECRET, IndexCredentials } from './index-credentials.js';
import { buildSecretsOf } from './plan.js';

const withIndex = (token: string) =>
  dockerPipeline(
    {
      parent_image: 'python:3.11-slim',
      python_package_installer: 'pip',
      python_package_installer_args: { 'extra-index-url': `https://ci:${token}@pkgs.example.com/simple` },
      requirements: 'requirements.txt',
    },
    project({
      'requirements.txt': `--extra-index-url https://bot%40corp:p%2Fw@other.example.org:8443/simple\nprivate-lib==1.0\n`,
    }),
  );

describe('index credentials in installer arguments and requirements', () => {
  it('leave the plan, the Dockerfile and the checksum, and go to the build as a netrc secret', () => {
    const built = plan(withIndex('tok-4711-secret'));
    expect(JSON.stringify(built)).not.toContain('tok-4711-secret');
    expect(JSON.stringify(built)).not.toContain('p%2Fw');
    const image = onlyImage(built);
    // The URLs stay, without their user part: pip and uv then ask the netrc (requests' and uv's rule).
    expect(image.dockerfile).toContain('--extra-index-url=https://pkgs.example.com/simple');
    expect(image.requirements).toContain('--extra-index-url https://other.example.org:8443/simple');
    expect(image.dockerfile).toContain(
      `RUN --mount=type=secret,id=${INDEX_NETRC_SECRET} NETRC=/run/secrets/${INDEX_NETRC_SECRET} pip install`,
    );
    const [build] = built.builds;
    expect(build && buildSecretsOf(build)).toEqual({
      // netrc matches a host without its port; the user part is URL-decoded.
      [INDEX_NETRC_SECRET]:
        'machine pkgs.example.com login ci password tok-4711-secret\nmachine other.example.org login bot@corp password p/w\n',
    });
    // A new token is not a new image: nothing of it is in the checksum.
    expect(onlyImage(plan(withIndex('rotated-token'))).settingsChecksum).toBe(image.settingsChecksum);
  });

  it('refuses two different logins for one host, naming the field', () => {
    const credentials = new IndexCredentials();
    credentials.take('https://a:1@idx.example/simple', 'args');
    const error = errorOf(() => credentials.take('https://b:2@idx.example/simple', 'requirements'));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toBe(
      'requirements: two different credentials for the index host idx.example; a build can give an index host one login.',
    );
  });

  it('leaves a plan without credentials as it was: no secret, no mount', () => {
    const built = plan(dockerPipeline({ parent_image: 'python:3.11-slim', requirements: ['numpy'] }));
    expect(onlyImage(built).dockerfile).not.toContain('type=secret');
    expect(built.builds[0] && buildSecretsOf(built.builds[0])).toEqual({});
  });

  it('takes them out of PIP_*/UV_* environment variables too: the ENV line keeps the URL, not the token', () => {
    const config = dockerPipeline({
      parent_image: 'python:3.11-slim',
      requirements: ['private-lib'],
      environment: {
        PIP_EXTRA_INDEX_URL: 'https://ci:env-token-99@pkgs.example.com/simple',
        OTHER: 'https://a:bpass-1234@c.d',
        SHORT: 'https://a:test@c.d',
      },
    });
    const built = plan(config);
    const image = onlyImage(built);
    expect(image.dockerfile).toContain('ENV PIP_EXTRA_INDEX_URL="https://pkgs.example.com/simple"');
    expect(image.dockerfile).not.toContain('env-token-99');
    expect(built.builds[0] && buildSecretsOf(built.builds[0])[INDEX_NETRC_SECRET]).toContain(
      'machine pkgs.example.com login ci password env-token-99',
    );
    // Not an installer's variable: left as written, but masked wherever zenbuild shows or records it.
    expect(image.dockerfile).toContain('ENV OTHER="https://a:bpass-1234@c.d"');
    expect(config.secrets.redact('ENV OTHER="https://a:bpass-1234@c.d"')).toBe(
      'ENV OTHER="https://a:***@c.d"',
    );
    // A short one is not masked: `test` would be masked in every image name of every record.
    expect(config.secrets.redact('zenbuild-test https://a:test@c.d')).toBe(
      'zenbuild-test https://a:test@c.d',
    );
  });
});
