// A private index with basic auth, as ZenML users configure one: the URL with its token in
// `python_package_installer_args` (ZenML renders them into the pip command line: src/zenml/utils/
// pipeline_docker_image_builder.py). zenbuild takes the token out and gives it to the install as a
// BuildKit secret; these tests look for it everywhere a build leaves something.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKitDocker } from '../fakes/local-build-env.js';
import { tempHome, zenbuildAsync } from '../helpers/cli.js';
import { imageHistory, runInImage, runInPodman, savedImage } from '../infra/dockerd.js';
import { type PrivateIndex, startPrivateIndex } from '../infra/private-index.js';
import { ensurePodmanPythonImage, ensurePythonImage } from '../infra/python-image.js';

const PACKAGES = Array.from({ length: 20 }, (_, i) => `zbpkg${String(i + 1).padStart(2, '0')}`);
let pythonImage: string;
let index: PrivateIndex;

beforeAll(async () => {
  pythonImage = ensurePythonImage();
  index = await startPrivateIndex([
    ...PACKAGES.map((name) => ({ name, version: '1.0' })),
    { name: 'zbpkg07', version: '1.1' },
    { name: 'zbpkg07', version: '1.2' },
    { name: 'zbpkg07', version: '1.3' },
  ]);
}, 300_000);
afterAll(() => index?.close());

/** A project whose code (`files`, under `code/`: the source root) lives apart from its pipeline file. */
function projectWith(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-index-'));
  mkdirSync(path.join(dir, 'code'));
  writeFileSync(path.join(dir, 'code/.zen'), '');
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, 'code', name)), { recursive: true });
    writeFileSync(path.join(dir, 'code', name), content);
  }
  return dir;
}

/** A pipeline installing the 20 packages from the index, zbpkg07 at `version`. */
function pipelineWith(dir: string, version: string, environment: Record<string, string> = {}): string {
  const file = path.join(dir, 'pipeline.yaml');
  writeFileSync(
    file,
    JSON.stringify({
      name: 'private-index',
      // The code lives apart from this file, which holds the token: the code goes into the image.
      source_root: 'code',
      settings: {
        docker: {
          parent_image: pythonImage,
          python_package_installer: 'pip',
          python_package_installer_args: {
            'index-url': index.url.replace('http://', `http://${index.user}:${index.token}@`),
            'trusted-host': index.host,
            // Debian's python is externally managed.
            'break-system-packages': null,
          },
          requirements: PACKAGES.map((name) => `${name}==${name === 'zbpkg07' ? version : '1.0'}`),
          environment,
          allow_download_from_artifact_store: false,
        },
      },
    }),
  );
  return file;
}

/** The status of a GET without credentials, on a connection of its own (no kept-alive socket to race). */
function statusOf(url: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (response) => {
      response.resume();
      resolve(response.statusCode);
    }).on('error', reject);
  });
}

/** Every file under `dir` that contains `text`. */
function filesContaining(dir: string, text: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => path.join(dir, name))
    .filter((file) => statSync(file).isFile() && readFileSync(file).includes(text));
}

describe('a private index with basic auth, its token in python_package_installer_args', () => {
  // The three local builders that mount secrets: the Engine API (BuildKit), the docker CLI with BuildKit
  // (Docker 20.10's client, DOCKER_BUILDKIT=1: the CLI first on PATH has no buildx), and podman.
  const modes = [
    { mode: 'docker, Engine API', cli: 'docker' as const, env: {}, builder: {} },
    {
      mode: 'docker CLI',
      cli: 'docker' as const,
      env: { PATH: `${buildKitDocker()}:${process.env.PATH}`, DOCKER_BUILDKIT: '1' },
      builder: { use_subprocess_call: true },
    },
    { mode: 'podman', cli: 'podman' as const, env: { ZENML_CONTAINER_ENGINE: 'podman' }, builder: {} },
  ];

  it.each(modes)(
    'installs from it with the token as a build secret ($mode), which nothing the build leaves contains',
    async ({ mode, cli, env: engineEnv, builder }) => {
      if (cli === 'podman') ensurePodmanPythonImage();
      const dir = projectWith({ 'src/train.py': 'import zbpkg07\nprint(zbpkg07.VALUE)\n' });
      const stack = path.join(dir, 'stack.yaml');
      writeFileSync(
        stack,
        JSON.stringify({
          name: 'index',
          components: { image_builder: { flavor: 'local', config: builder } },
        }),
      );
      const home = tempHome();
      // zenbuild's temp files go here, to be searched afterwards.
      const temp = mkdtempSync(path.join(tmpdir(), 'zenbuild-index-tmp-'));
      const env = { ZENBUILD_HOME: home, TMPDIR: temp, ...engineEnv };
      // Each mode its own install step (BuildKit's cache would otherwise hand one mode another's).
      const pipeline = pipelineWith(dir, '1.0', { ZENBUILD_TEST_MODE: mode });
      const result = await zenbuildAsync(
        ['build', pipeline, '--stack', stack, '--json', '--progress', 'plain'],
        env,
      );
      expect(result.stderr).not.toMatch(/zenbuild:/);
      expect(result.code).toBe(0);
      const record = JSON.parse(result.stdout);
      const image = record.images.orchestrator.image;
      const run = cli === 'docker' ? runInImage : runInPodman;
      expect(run(image, ['python3', '/app/src/train.py'])).toBe('zbpkg07 1.0\n');
      // The index answers nothing without the token; the install got its pages and wheels.
      expect(await statusOf(`${index.url}/zbpkg01/`)).toBe(401);

      // Nowhere: the output, the image's history and layers, the record, zenbuild's home, the plan.
      expect(result.stdout + result.stderr).not.toContain(index.token);
      const history = imageHistory(cli, image);
      expect(history).toContain('NETRC=/run/secrets/zenbuild_index_netrc pip install');
      expect(history).not.toContain(index.token);
      const saved = savedImage(cli, image);
      expect(saved.length).toBeGreaterThan(1_000_000);
      expect(saved.includes(Buffer.from(index.token))).toBe(false);
      const shown = await zenbuildAsync(['builds', 'show', record.id, '--json'], env);
      expect(shown.code).toBe(0);
      expect(shown.stdout).toContain(index.url);
      expect(shown.stdout).not.toContain(index.token);
      expect(filesContaining(home, index.token)).toEqual([]);
      const planned = await zenbuildAsync(['plan', pipeline, '--stack', stack, '--json'], env);
      expect(planned.code).toBe(0);
      expect(planned.stdout).toContain('type=secret,id=zenbuild_index_netrc');
      expect(planned.stdout).not.toContain(index.token);
      // No temp file outlives the build with it.
      expect(filesContaining(temp, index.token)).toEqual([]);
    },
    300_000,
  );

  it('is refused before anything is built where the builder cannot mount secrets, saying why', async () => {
    const dir = projectWith();
    // DOCKER_BUILDKIT=0: the legacy builder, which has no secret mounts.
    const result = await zenbuildAsync(['build', pipelineWith(dir, '1.0')], {
      ZENBUILD_HOME: tempHome(),
      DOCKER_BUILDKIT: '0',
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /Image `orchestrator` installs from a private index whose credentials zenbuild passes as a build secret \(never in the image\), and this builder cannot: .*legacy builder/,
    );
    expect(result.stderr).not.toContain(index.token);
    // Refused before anything is built, or said to be.
    expect(result.stderr).not.toMatch(/Building 1 image|\[orchestrator\] start/);
  });

  it('downloads only the changed requirement with the installer cache, and everything again without it', async () => {
    const dir = projectWith();
    const env = { ZENBUILD_HOME: tempHome() };
    const build = async (version: string, ...args: string[]) => {
      const result = await zenbuildAsync(['build', pipelineWith(dir, version), '--json', ...args], env);
      expect(result.stderr).not.toMatch(/zenbuild:/);
      expect(result.code).toBe(0);
      return JSON.parse(result.stdout).images.orchestrator.image as string;
    };
    const wheel = (name: string, version = '1.0') => `${name}-${version}-py3-none-any.whl`;
    const before = index.downloads();
    const count = (file: string) => (index.downloads()[file] ?? 0) - (before[file] ?? 0);

    // A fresh cache (another build of these 20 may have filled it): the first build fills it.
    await build('1.0', '--no-installer-cache');
    await build('1.1');
    const after11 = PACKAGES.filter((name) => name !== 'zbpkg07').map((name) => count(wheel(name)));
    // zbpkg07 1.1 is new; the other 19 came from the cache the 1.1 build mounted, or its first fill.
    expect(count(wheel('zbpkg07', '1.1'))).toBe(1);
    const image = await build('1.2');
    expect(count(wheel('zbpkg07', '1.2'))).toBe(1);
    // The 1.2 build downloaded none of the other 19 again: each was downloaded at most twice (the build
    // without a cache, and the first build with it), not a third time.
    const after12 = PACKAGES.filter((name) => name !== 'zbpkg07').map((name) => count(wheel(name)));
    expect(after12).toEqual(after11);
    expect(Math.max(...after12)).toBeLessThanOrEqual(2);
    // The image has what it would have without the cache: no pip cache in it.
    expect(
      runInImage(image, [
        'sh',
        '-c',
        'ls -A /var/cache/zenbuild/pip | wc -l; ls -A /root/.cache 2>/dev/null | wc -l',
      ]),
    ).toBe('0\n0\n');

    // Without the cache, a changed requirement downloads all 20 again.
    const others = () => PACKAGES.filter((name) => name !== 'zbpkg07').map((name) => count(wheel(name)));
    const previously = others();
    await build('1.3', '--no-installer-cache');
    expect(count(wheel('zbpkg07', '1.3'))).toBe(1);
    expect(others()).toEqual(previously.map((n) => n + 1));
  }, 300_000);
});
