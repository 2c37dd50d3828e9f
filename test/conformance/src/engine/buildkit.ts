import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ZenbuildError } from '@zenbuild/core';
import { expect, it } from 'vitest';
import { cancelledAfter } from '../cancel.js';
import { buildRequest, failure, runContext, unique } from '../helpers.js';
import type { EngineSuite } from './suite.js';

/**
 * BuildKit's Dockerfile features: cache mounts and build secrets (`RUN --mount`). An engine that builds
 * with BuildKit honours them; one that does not refuses the secrets before building anything.
 */
export function engineBuildkitCases({ name, harness, capabilities }: EngineSuite): void {
  if (!capabilities.buildkit) {
    it('refuses build secrets before building, saying why', async () => {
      const { withEnv, baseImage } = harness();
      const engine = withEnv({ PATH: process.env.PATH, INDEX_TOKEN: 'x' });
      await engine.check();
      const options = { secrets: { index_token: { env: 'INDEX_TOKEN' } } };
      expect(() => engine.validateOptions?.(options)).toThrow(
        /legacy builder.*cannot mount the build option `secrets`/,
      );
      const image = `zenbuild-test/${name}-refused:${unique()}`;
      const error = await failure(
        engine.build(
          await buildRequest(image, `FROM ${baseImage}\nRUN echo ${unique()}\n`, { options }),
          runContext(),
        ),
      );
      expect(error.code).toBe('INVALID_INPUT');
      expect(await engine.imageExists(image)).toBe(false);
    });
    return;
  }

  it('keeps a RUN --mount=type=cache between builds, and out of the image', async () => {
    const { engine, baseImage, run } = harness();
    const cacheId = `zenbuild-${name}-${unique()}`;
    const mount = `--mount=type=cache,id=${cacheId},target=/cache`;
    const first = `zenbuild-test/${name}-cache:${unique()}`;
    await engine.build(
      await buildRequest(
        first,
        `FROM ${baseImage}\nRUN ${mount} echo ${unique()} && echo warm > /cache/mark\n`,
      ),
      runContext(),
    );
    // Another build, another step: what the first left in the cache is there.
    const second = `zenbuild-test/${name}-cache:${unique()}`;
    await engine.build(
      await buildRequest(
        second,
        `FROM ${baseImage}\nRUN ${mount} echo ${unique()} && cp /cache/mark /seen\n`,
      ),
      runContext(),
    );
    expect(run(second, ['cat', '/seen'])).toBe('warm\n');
    expect(run(first, ['sh', '-c', 'ls -A /cache 2>/dev/null | wc -l'])).toBe('0\n');
  });

  it('mounts build secrets (a variable and a file): the value reaches the RUN step and nothing of the image', async () => {
    const { withEnv, baseImage, run, history, save } = harness();
    const token = `tok-${unique()}${unique()}-secret`;
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'zenbuild-secret-')), 'netrc');
    writeFileSync(file, 'machine index login ci password from-a-file\n');
    const engine = withEnv({ PATH: process.env.PATH, INDEX_TOKEN: token });
    const options = { secrets: { index_token: { env: 'INDEX_TOKEN' }, netrc: { file } } };
    engine.validateOptions?.(options);
    const dockerfile = [
      `FROM ${baseImage}`,
      // BuildKit does not count a secret's value in a step's cache key: a step of its own per run.
      `RUN --mount=type=secret,id=index_token --mount=type=secret,id=netrc echo ${unique()} > /run-id && sha256sum /run/secrets/index_token | cut -c1-64 > /token-hash && grep -c password /run/secrets/netrc > /netrc-lines`,
      '',
    ].join('\n');
    const image = `localhost/zenbuild-test/${name}-secret:${unique()}`;
    const events = runContext();
    await engine.build(await buildRequest(image, dockerfile, { options }), events);
    expect(run(image, ['cat', '/token-hash'])).toBe(`${createHash('sha256').update(token).digest('hex')}\n`);
    expect(run(image, ['cat', '/netrc-lines'])).toBe('1\n');
    // Not in the image's history, any of its layers, or the build's output.
    const steps = history(image);
    expect(steps).toContain('sha256sum /run/secrets/index_token');
    expect(steps).not.toContain(token);
    const saved = save(image);
    expect(saved.length).toBeGreaterThan(1000);
    expect(saved.includes(Buffer.from(token))).toBe(false);
    expect(saved.includes(Buffer.from('from-a-file'))).toBe(false);
    expect(JSON.stringify(events.events)).not.toContain(token);
    // A variable that is not set is refused before building.
    expect(() => withEnv({ PATH: process.env.PATH }).validateOptions?.(options)).toThrow(
      /The build secret `index_token` cannot be read: the variable INDEX_TOKEN is not set/,
    );
  });

  it('stops a running step within seconds when cancelled, and leaves no image', async () => {
    const { engine, baseImage } = harness();
    const image = `zenbuild-test/${name}-stopped:${unique()}`;
    const marker = `${40 + Math.floor(Math.random() * 50)}.${unique().replace(/\D/g, '') || '1'}`;
    const request = await buildRequest(image, `FROM ${baseImage}\nRUN echo started && sleep ${marker}\n`);
    const events = runContext();
    const { error, ms } = await cancelledAfter(2_500, (signal) =>
      engine.build(request, { ...events, signal }),
    );
    expect((error as ZenbuildError).code).toBe('CANCELLED');
    expect(ms).toBeLessThan(8_000);
    expect(events.events.some((e) => e.type === 'log' && e.line.includes('started'))).toBe(true);
    expect(await engine.imageExists(image)).toBe(false);
    // The step's process is gone too, not left running in the builder.
    await expect.poll(() => sleeping(marker), { timeout: 5_000 }).toBe(false);
  });
}

/** Whether a `sleep <marker>` runs anywhere on this machine (build containers' processes included). */
function sleeping(marker: string): boolean {
  try {
    execFileSync('pgrep', ['-f', `sleep ${marker}`], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}
