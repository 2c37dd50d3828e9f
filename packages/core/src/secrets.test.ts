import { describe, expect, it } from 'vitest';
import { envInstructions } from './plan/dockerfile.js';
import { looksSecret, SecretSet } from './secrets.js';

describe('secret masking', () => {
  it('recognises secret-looking names', () => {
    for (const name of [
      'HF_TOKEN',
      'password',
      'AWS_SECRET_ACCESS_KEY',
      'api_key',
      'PRIVATEKEY',
      'registry.credentials.password',
    ]) {
      expect(looksSecret(name), name).toBe(true);
    }
    for (const name of ['MODEL_DIR', 'PATH', 'user']) expect(looksSecret(name), name).toBe(false);
  });

  it('masks a secret as written, inside JSON, and inside a Dockerfile ENV value', () => {
    const secrets = new SecretSet();
    const value = 'p@ss"w$rd\\x';
    secrets.add(value);
    const dockerfile = envInstructions({ TOKEN: value }).join('\n');
    expect(secrets.redact(`raw ${value}`)).toBe('raw ***');
    expect(secrets.redact(dockerfile)).toBe('ENV TOKEN="***"');
    expect(secrets.redact(JSON.stringify({ dockerfile }))).not.toContain('w$rd');
    const escaped = new SecretSet();
    escaped.add('a\\$literal-dollar');
    expect(escaped.redact(envInstructions({ T: 'a\\$literal-dollar' })[0] ?? '')).toBe('ENV T="***"');
    expect(secrets.redact(JSON.stringify({ value }))).toBe('{"value":"***"}');
  });

  it('ignores values too short to be secrets', () => {
    const secrets = new SecretSet();
    secrets.add('abc');
    expect(secrets.redact('abc')).toBe('abc');
  });
});

describe('values under secret-looking names', () => {
  it('are masked when written literally, but a flag or a number is not', async () => {
    const { dockerPipeline } = await import('./__fixtures__/pipeline.js');
    const p = dockerPipeline({
      parent_image: 'x/y:1',
      runtime_environment: { DB_PASSWORD: 'hunter2-literal', API_KEY_REQUIRED: true, TOKEN_TTL: 3600 },
    });
    expect(p.secrets.redact('pw=hunter2-literal')).toBe('pw=***');
    expect(p.secrets.redact('ENV A="True" ttl=3600')).toBe('ENV A="True" ttl=3600');
  });
});
