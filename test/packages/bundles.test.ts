import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cliBin, repoRoot, tempHome } from '../helpers/cli.js';

/** Runs an ES module script in a node of its own, loading the packages as a user's program does. */
function runModule(script: string, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: options.cwd ?? path.join(repoRoot, 'test'),
    encoding: 'utf8',
    env: { ...process.env, ...options.env },
  });
}

/** The packages a run read from node_modules, from Node's ESM debug log (`NODE_DEBUG=esm`). */
function librariesLoaded(esmLog: string): Set<string> {
  const paths = esmLog.matchAll(/\/node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)\//g);
  return new Set([...paths].map((match) => match[1] as string));
}

// Libraries core's bundle carries, then one the CLI's carries.
const INLINED = ['zod', 'js-yaml', '@balena/dockerignore', 'p-limit', 'commander'];
const PACKAGES = ['core', 'docker', 'podman', 'aws', 'gcp'];

// Every package ships one bundle (scripts/bundle.mjs); these check what a user gets from it.
describe('the published packages', () => {
  it('resolve to their bundles', () => {
    const result = runModule(`
      const names = ${JSON.stringify(PACKAGES.map((name) => `@zenbuild/${name}`))};
      console.log(JSON.stringify(names.map((name) => import.meta.resolve(name))));`);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual(
      PACKAGES.map(
        (name) => pathToFileURL(path.join(repoRoot, 'packages', name, 'dist/bundle/index.js')).href,
      ),
    );
  });

  it('declare every package their bundles import; what a bundle carries is only a devDependency', () => {
    for (const dir of [...PACKAGES.map((name) => `packages/${name}`), 'apps/cli']) {
      const manifest = JSON.parse(readFileSync(path.join(repoRoot, dir, 'package.json'), 'utf8'));
      const runtime = new Set([
        ...Object.keys(manifest.dependencies ?? {}),
        ...Object.keys(manifest.peerDependencies ?? {}),
      ]);
      const bundle = path.join(repoRoot, dir, 'dist/bundle');
      const code = readdirSync(bundle, { recursive: true, encoding: 'utf8' })
        .filter((file) => file.endsWith('.js'))
        .map((file) => readFileSync(path.join(bundle, file), 'utf8'))
        .join('\n');
      const specifiers = [
        ...code.matchAll(
          /(?:^(?:import|export)\b[^;"']*?from\s*|\bimport\(\s*)"((?:@[\w.-]+\/)?\w[\w.:-]*)(?:\/[^"]*)?"/gm,
        ),
      ].map((match) => match[1] as string);
      // The probe works: every bundle imports node's own modules.
      expect(
        specifiers.some((name) => name.startsWith('node:')),
        dir,
      ).toBe(true);
      const imported = new Set(specifiers.filter((name) => !name.startsWith('node:')));
      for (const name of imported) expect(runtime, `${dir} imports ${name}`).toContain(name);
    }
  });

  it('share one core: an error a backend throws is an instance of core’s ZenbuildError', () => {
    const result = runModule(`
      import { ZenbuildError } from '@zenbuild/core';
      import { toBuildQuery } from '@zenbuild/docker';
      try { toBuildQuery({ squash: true }); } catch (error) {
        console.log(JSON.stringify({ shared: error instanceof ZenbuildError, code: error.code }));
      }`);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ shared: true, code: 'INVALID_INPUT' });
  });

  it('give a user and a backend different faces of one core', () => {
    const result = runModule(`
      const user = await import('@zenbuild/core');
      const kit = await import('@zenbuild/core/backend');
      console.log(JSON.stringify({
        user: Object.keys(user), kit: Object.keys(kit),
        kitUrl: import.meta.resolve('@zenbuild/core/backend'),
        oneError: user.ZenbuildError === kit.ZenbuildError,
      }));`);
    expect(result.stderr).toBe('');
    const faces = JSON.parse(result.stdout);
    expect(faces.kitUrl).toBe(
      pathToFileURL(path.join(repoRoot, 'packages/core/dist/bundle/backend.js')).href,
    );
    expect(faces.oneError).toBe(true);
    // What a user calls is there; a backend's plumbing is not.
    expect(faces.user).toEqual(
      expect.arrayContaining([
        'buildPipeline',
        'planPipeline',
        'loadStack',
        'openBuildStore',
        'LocalBuildStore',
      ]),
    );
    for (const internal of ['httpRequest', 'ChunkPool', 'RegistryClient', 'superviseEngineProcess', 'z'])
      expect(faces.user).not.toContain(internal);
    expect(faces.kit).toEqual(
      expect.arrayContaining(['RegistryClient', 'ChunkPool', 'superviseEngineProcess', 'z', 'ZenbuildError']),
    );
    expect(faces.kit).not.toContain('buildPipeline');
  });

  it('share one zod: a backend’s config schema is built with core’s', () => {
    const result = runModule(`
      import { z } from '@zenbuild/core/backend';
      import { flavor as aws } from '@zenbuild/aws';
      import { flavor as gcp } from '@zenbuild/gcp';
      console.log(JSON.stringify([aws.configSchema instanceof z.ZodType, gcp.configSchema instanceof z.ZodType]));`);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual([true, true]);
  });

  it('carry only the zod core uses: its English messages, not the other locales', () => {
    // Re-exporting zod's whole namespace once kept every locale in core's bundle (0.7 of its 1 MB).
    // Across its entries (index, backend) and the chunks they share.
    const bundle = path.join(repoRoot, 'packages/core/dist/bundle');
    const sources = readdirSync(bundle, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.js.map'))
      .flatMap((file) => JSON.parse(readFileSync(path.join(bundle, file), 'utf8')).sources as string[]);
    const zod = [...new Set(sources)].filter((source) => source.includes('/zod/'));
    // The probe works: the schemas are there.
    expect(zod.some((source) => source.endsWith('/v4/classic/schemas.js'))).toBe(true);
    const locales = zod.filter((source) => source.includes('/v4/locales/'));
    expect(locales.map((source) => path.basename(source))).toEqual(['en.js']);
  });

  it('run the CLI without reading the inlined libraries from node_modules', () => {
    // zod alone is over a hundred files, each read with an async fs call: the reason for the bundles.
    const result = spawnSync(process.execPath, [cliBin, 'context', path.join(repoRoot, 'examples')], {
      encoding: 'utf8',
      env: { ...process.env, ZENBUILD_HOME: tempHome(), NODE_DEBUG: 'esm' },
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/Files: +\d+/);
    const loaded = librariesLoaded(result.stderr);
    for (const library of INLINED) expect(loaded).not.toContain(library);

    // The control: the same probe sees them when they are read from node_modules (from the packages
    // that depend on them).
    const control = (cwd: string, names: string[]) => {
      const run = runModule(`for (const name of ${JSON.stringify(names)}) await import(name);`, {
        cwd: path.join(repoRoot, cwd),
        env: { NODE_DEBUG: 'esm' },
      });
      expect(run.status).toBe(0);
      return librariesLoaded(run.stderr);
    };
    const seen = new Set([
      ...control('packages/core', INLINED.slice(0, -1)),
      ...control('apps/cli', ['commander']),
    ]);
    for (const library of INLINED) expect(seen).toContain(library);
  });
});
