import { describe, expect, it } from 'vitest';
import { podmanQuery } from './subprocess.js';

// podmanQuery runs any binary; these use the shell so each outcome is certain.
const env = { PATH: process.env.PATH };

describe('podmanQuery', () => {
  it('returns the output of a command that succeeds', async () => {
    expect(await podmanQuery('sh', ['-c', 'echo 4.3.1'], env)).toEqual({
      failed: false,
      exitCode: 0,
      stdout: '4.3.1\n',
      stderr: '',
    });
  });

  it('returns the exit code and stderr of a command that fails, without throwing', async () => {
    const result = await podmanQuery('sh', ['-c', 'echo "Error: image not known" >&2; exit 125'], env);
    expect(result).toMatchObject({ failed: true, exitCode: 125, stderr: 'Error: image not known\n' });
  });

  it('reports a binary that is not there as ENOENT', async () => {
    const result = await podmanQuery('podman-does-not-exist', ['version'], env);
    expect(result).toMatchObject({ failed: true, code: 'ENOENT', exitCode: undefined });
  });

  it('stops a command that does not answer in time and says so', async () => {
    const result = await podmanQuery('sh', ['-c', 'sleep 5'], env, 200);
    expect(result.failed).toBe(true);
    expect(result.stderr).toBe('podman -c gave no answer within 0.2 s');
  });
});
