// BuildKit benchmark (issue "BuildKit"): with nothing changed since the last build, a cached
// `zenbuild build --no-reuse` (BuildKit over the Engine API) against `docker build` with BuildKit and
// with the legacy builder, on one context (1,000 files, 51 MB; and 100 MiB) and a generated Dockerfile
// that copies them; a zenbuild reuse hit against BuildKit's cached rebuild; and, on a Python image, a
// changed requirement out of 20 from a local index (with a delay per download, as a remote index has)
// with the installer cache mount and without it. Side by side in one run.
// Targets: cached --no-reuse within 1.2x of BuildKit; a reuse hit faster than BuildKit's cached rebuild;
// the changed requirement with the cache in at most half the time without it.
// Needs dockerd (scripts/test-infra.sh up) and the offline images the tests make: busybox, and the
// Python image `zenbuild-test/debian-py:bookworm` (made by test/cli/python-image.test.ts).
// BENCH_ROUNDS (5), BENCH_INDEX_DELAY_MS (150 per download).
import { spawn as spawnAsync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { networkInterfaces } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { materialise, time } from './lib/build-bench.mjs';
import { fmt, median, scratchDir } from './lib/measure.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.join(here, '../apps/cli/dist/bundle/bin.js');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const DELAY_MS = Number(process.env.BENCH_INDEX_DELAY_MS ?? 150);
const BASE = 'zenbuild-test/busybox:1.35';
const PYTHON = 'zenbuild-test/debian-py:bookworm';
const docker = '/usr/bin/docker';
const range = (values) => `${fmt(Math.min(...values), 0)}–${fmt(Math.max(...values), 0)}`;
const summary = [];

// Wheels for the index: a minimal pure-Python wheel per (name, version), with a correct RECORD.
const WHEELS = `
import base64, hashlib, sys, zipfile
out, rest = sys.argv[1], sys.argv[2:]
for name, version in zip(rest[::2], rest[1::2]):
    files = {f"{name}/__init__.py": f"VALUE = {version!r}\\n",
             f"{name}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n",
             f"{name}-{version}.dist-info/WHEEL": "Wheel-Version: 1.0\\nGenerator: zenbuild-bench\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"}
    record = [f"{p},sha256={base64.urlsafe_b64encode(hashlib.sha256(c.encode()).digest()).rstrip(b'=').decode()},{len(c.encode())}" for p, c in files.items()]
    files[f"{name}-{version}.dist-info/RECORD"] = "\\n".join(record + [f"{name}-{version}.dist-info/RECORD,,"]) + "\\n"
    with zipfile.ZipFile(f"{out}/{name}-{version}-py3-none-any.whl", "w") as z:
        for p, c in files.items(): z.writestr(p, c)
`;

/** A project of `files` files of `size` bytes under src/, whose generated Dockerfile copies them. */
function contextProject(files, size) {
  const dir = scratchDir('zenbuild-bench-bk-');
  mkdirSync(path.join(dir, 'src'));
  writeFileSync(path.join(dir, '.zen'), '');
  for (let i = 0; i < files; i++) {
    const line = `# module ${i}\n`;
    writeFileSync(path.join(dir, 'src', `m${i}.py`), line + 'x'.repeat(size - line.length));
  }
  const pipeline = path.join(dir, 'pipeline.yaml');
  writeFileSync(
    pipeline,
    JSON.stringify({
      name: 'bench-buildkit',
      settings: { docker: { parent_image: BASE, allow_download_from_artifact_store: false } },
    }),
  );
  return pipeline;
}

console.log('| context | run | ms, median (min–max) |');
console.log('|---|---|---:|');
for (const [label, files, size] of [
  ['1,000 files, 51 MB', 1000, 51_000],
  ['1,000 files, 100 MiB', 1000, 100 * 1024 + 882],
]) {
  const pipeline = contextProject(files, size);
  const context = await materialise(pipeline);
  const home = scratchDir('zenbuild-bench-home-');
  const env = { ...process.env, ZENBUILD_HOME: home, ZENML_CONTAINER_ENGINE: 'docker' };
  const zenbuild = (...extra) =>
    time(process.execPath, [cli, 'build', pipeline, '--progress', 'quiet', ...extra], { env, cwd: here });
  const reference = (buildkit) =>
    time(docker, ['build', '-q', '-t', 'bench-bk-ref:1', context], {
      env: { ...process.env, DOCKER_BUILDKIT: buildkit ? '1' : '0' },
    });
  // Each side's cache filled once; then nothing changes between rounds.
  reference(true);
  reference(false);
  zenbuild('--no-reuse');
  const rows = { buildkit: [], legacy: [], zenbuild: [], hit: [] };
  for (let round = 0; round < ROUNDS; round++) {
    rows.buildkit.push(reference(true));
    rows.legacy.push(reference(false));
    rows.zenbuild.push(zenbuild('--no-reuse'));
    rows.hit.push(zenbuild());
  }
  for (const [run, values] of [
    ['`docker build`, BuildKit (cached)', rows.buildkit],
    ['`docker build`, legacy builder (cached)', rows.legacy],
    ['`zenbuild build --no-reuse` (BuildKit, cached)', rows.zenbuild],
    ['`zenbuild build`, a reuse hit', rows.hit],
  ])
    console.log(`| ${label} | ${run} | ${fmt(median(values), 0)} (${range(values)}) |`);
  summary.push(
    `${label}: cached --no-reuse / BuildKit = ${fmt(median(rows.zenbuild) / median(rows.buildkit), 2)}x (target <= 1.2x)`,
    `${label}: reuse hit ${fmt(median(rows.hit), 0)} ms vs BuildKit cached ${fmt(median(rows.buildkit), 0)} ms (target: faster)`,
  );
}

// The floors under every zenbuild run: node's start, and zenbuild's (the bundle's import).
const floors = [
  ['node, an empty script', () => time(process.execPath, ['-e', '0'])],
  ['`zenbuild --version`', () => time(process.execPath, [cli, '--version'])],
];
console.log('\n| floor | ms (median of 9) |');
console.log('|---|---:|');
for (const [name, run] of floors)
  console.log(`| ${name} | ${fmt(median(Array.from({ length: 9 }, run)), 0)} |`);

// The installer cache: 20 requirements from a local index that takes DELAY_MS per download.
const python = spawnSync(docker, ['image', 'inspect', PYTHON], { stdio: 'ignore' }).status === 0;
if (!python) {
  console.log(`\n${PYTHON} is missing (the Python test makes it): the installer cache rows are skipped.`);
} else {
  const wheels = scratchDir('zenbuild-bench-wheels-');
  const packages = Array.from({ length: 20 }, (_, i) => `zbbench${String(i + 1).padStart(2, '0')}`);
  const versions = Array.from({ length: 2 + 2 * ROUNDS }, (_, i) => `1.${i}`);
  // One wheel per package, and every version of the first one: each round changes that one.
  const made = [...packages.map((name) => [name, '1.0']), ...versions.slice(1).map((v) => [packages[0], v])];
  spawnSync('python3', ['-c', WHEELS, wheels, ...made.flat()], { stdio: 'inherit' });
  const server = createServer((request, response) => {
    const project = /^\/simple\/([^/]+)\/?$/.exec(request.url ?? '')?.[1];
    if (project) {
      const links = made
        .filter(([name]) => name === project)
        .map(([name, v]) => `<a href="/files/${name}-${v}-py3-none-any.whl">${name}-${v}</a>`);
      return void response
        .writeHead(links.length ? 200 : 404, { 'content-type': 'text/html' })
        .end(links.join('\n'));
    }
    const file = /^\/files\/([\w.-]+\.whl)$/.exec(request.url ?? '')?.[1];
    if (!file) return void response.writeHead(404).end();
    setTimeout(() => {
      response
        .writeHead(200, { 'cache-control': 'max-age=365000000, immutable' })
        .end(readFileSync(path.join(wheels, file)));
    }, DELAY_MS);
  });
  const host = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
  await new Promise((resolve) => server.listen(0, host, resolve));
  const index = `http://${host}:${server.address().port}/simple`;
  const dir = scratchDir('zenbuild-bench-reqs-');
  writeFileSync(path.join(dir, '.zen'), '');
  const home = scratchDir('zenbuild-bench-home-');
  let next = 0;
  /** A build whose first requirement is at a version no build here has installed yet. */
  const build = (...extra) => {
    const version = versions[next++];
    const file = path.join(dir, 'pipeline.yaml');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'bench-installer-cache',
        settings: {
          docker: {
            parent_image: PYTHON,
            python_package_installer: 'pip',
            python_package_installer_args: {
              'index-url': index,
              'trusted-host': host,
              'break-system-packages': null,
            },
            requirements: packages.map((name, i) => `${name}==${i === 0 ? version : '1.0'}`),
            allow_download_from_artifact_store: false,
          },
        },
      }),
    );
    return new Promise((resolve, reject) => {
      // Asynchronously: the index answers from this process.
      const start = process.hrtime.bigint();
      const child = spawnAsync(process.execPath, [cli, 'build', file, '--progress', 'quiet', ...extra], {
        env: { ...process.env, ZENBUILD_HOME: home, ZENML_CONTAINER_ENGINE: 'docker' },
      });
      child.on('exit', (code) =>
        code === 0
          ? resolve(Number(process.hrtime.bigint() - start) / 1e6)
          : reject(new Error(`build exited ${code}`)),
      );
    });
  };
  // The cache filled once (the first build downloads all 20 either way).
  await build();
  const withCache = [];
  const without = [];
  for (let round = 0; round < ROUNDS; round++) {
    withCache.push(await build());
    without.push(await build('--no-installer-cache'));
  }
  server.close();
  console.log(`\n| one of 20 requirements changed, ${DELAY_MS} ms per download | ms, median (min–max) |`);
  console.log('|---|---:|');
  console.log(`| with the installer cache mount | ${fmt(median(withCache), 0)} (${range(withCache)}) |`);
  console.log(`| without it (\`--no-installer-cache\`) | ${fmt(median(without), 0)} (${range(without)}) |`);
  summary.push(
    `changed requirement: with the cache / without = ${fmt(median(withCache) / median(without), 2)} (target <= 0.5)`,
  );
}

console.log('');
for (const line of summary) console.log(line);
