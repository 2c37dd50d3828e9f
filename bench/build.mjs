// Build benchmark: `zenbuild build` against the engine's own CLI (`docker build`, `podman build`) on the
// same Dockerfile and the same context, cold (no cache) and warm (cached), side by side in one run; and
// a reuse hit against the engine's fully cached rebuild. Targets: zenbuild's overhead at most 5% of the
// build's wall time; a reuse hit at least 10x faster than the cached rebuild.
// Needs a running dockerd and podman, and the offline busybox images the tests import.
// BENCH_ROUNDS (3), BENCH_BUILD_FILES (1000 files of 100 KiB) and BENCH_BUILD_WORK_MIB (1100) set the size;
// BENCH_REGISTRY (default: $ZENBUILD_TEST_REGISTRY) adds reuse rows with a registry in the stack.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { materialise, time } from './lib/build-bench.mjs';
import { fmt, median, scratchDir } from './lib/measure.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.join(here, '../apps/cli/dist/bundle/bin.js');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
// The RUN step's work: sha256 of this many MiB of zeros, about 8 s by default with busybox here. A fixed
// amount of work, not a deadline: a `while [ $(date +%s) -lt $end ]` loop ends anywhere in its last
// second, which made the cold runs' RUN step vary by up to a second between rounds.
const WORK_MIB = Number(process.env.BENCH_BUILD_WORK_MIB ?? 1100);
const FILES = Number(process.env.BENCH_BUILD_FILES ?? 1000);
// A registry for the reuse rows with a registry (the test registry of `scripts/test-infra.sh up`).
const REGISTRY = process.env.BENCH_REGISTRY ?? process.env.ZENBUILD_TEST_REGISTRY;
const ENGINES = [
  {
    name: 'docker',
    base: 'zenbuild-test/busybox:1.35',
    cli: ['/usr/bin/docker', 'build'],
    push: ['push'],
    env: { DOCKER_BUILDKIT: '0' },
  },
  {
    name: 'podman',
    base: 'localhost/zenbuild-test/busybox:1.35',
    cli: ['podman', 'build', '--format', 'docker'],
    push: ['push', '--tls-verify=false'],
    env: {},
  },
];

/** A project whose image does WORK_MIB of hashing in a RUN step and copies a source tree of FILES x 100 KiB. */
function project(engine) {
  const dir = scratchDir(`zenbuild-bench-build-${engine.name}-`);
  mkdirSync(path.join(dir, 'src'));
  writeFileSync(path.join(dir, '.zen'), '');
  for (let i = 0; i < FILES; i++)
    writeFileSync(path.join(dir, 'src', `m${i}.py`), `# module ${i}\n${'x = 1\n'.repeat(17_000)}`);
  const settings = (nocache) => ({
    parent_image: engine.base,
    allow_download_from_artifact_store: false,
    environment: { MODEL_DIR: '/models' },
    local_project_install_command: `sh -c 'dd if=/dev/zero bs=1M count=${WORK_MIB} 2>/dev/null | sha256sum'`,
    ...(nocache ? { build_config: { build_options: { nocache: true } } } : {}),
  });
  for (const [file, nocache] of [
    ['cold.yaml', true],
    ['warm.yaml', false],
  ]) {
    writeFileSync(
      path.join(dir, file),
      JSON.stringify({ name: `bench-${engine.name}`, settings: { docker: settings(nocache) } }),
    );
  }
  return dir;
}

console.log(`| engine | run | engine CLI ms (min–max) | zenbuild ms (min–max) | overhead (of medians) |`);
console.log('|---|---|---:|---:|---:|');
const range = (values) => `${fmt(Math.min(...values), 0)}–${fmt(Math.max(...values), 0)}`;
const summary = [];
for (const engine of ENGINES) {
  const dir = project(engine);
  const context = await materialise(path.join(dir, 'warm.yaml'));
  const home = scratchDir('zenbuild-bench-home-');
  const env = { ...process.env, ZENBUILD_HOME: home, ZENML_CONTAINER_ENGINE: engine.name, ...engine.env };
  const zenbuild = (file, extra = [], zenbuildHome = home) =>
    time(process.execPath, [cli, 'build', path.join(dir, file), '--progress', 'quiet', ...extra], {
      env: { ...env, ZENBUILD_HOME: zenbuildHome },
      cwd: here,
    });
  // Cold means cold for zenbuild too: a new home each time, so no file digest and no unpacked context
  // is left from an earlier run.
  const freshHome = () => scratchDir('zenbuild-bench-home-');
  const reference = (extra) =>
    time(engine.cli[0], [...engine.cli.slice(1), ...extra, '-t', `bench-ref-${engine.name}:1`, context], {
      env,
    });

  const rows = { cold: [[], []], warm: [[], []] };
  // Cold runs first: interleaving --no-cache builds with cached ones defeats the classic builder's cache.
  for (let round = 0; round < ROUNDS; round++) {
    rows.cold[0].push(reference(['--no-cache']));
    rows.cold[1].push(zenbuild('cold.yaml', ['--no-reuse'], freshHome()));
  }
  // Fill both caches once, so the warm runs measure cached builds on both sides.
  zenbuild('warm.yaml', ['--no-reuse']);
  reference([]);
  for (let round = 0; round < ROUNDS; round++) {
    rows.warm[0].push(reference([]));
    rows.warm[1].push(zenbuild('warm.yaml', ['--no-reuse']));
  }
  for (const [run, [ref, ours]] of Object.entries(rows)) {
    const r = median(ref);
    const z = median(ours);
    console.log(
      `| ${engine.name} | ${run} | ${fmt(r, 0)} (${range(ref)}) | ${fmt(z, 0)} (${range(ours)}) | ${fmt(((z - r) / r) * 100)}% |`,
    );
    summary.push({ engine: engine.name, run, overhead: (z - r) / r });
  }
  // A reuse hit: the second `zenbuild build` of an unchanged pipeline builds nothing.
  zenbuild('warm.yaml');
  const hits = Array.from({ length: ROUNDS }, () => zenbuild('warm.yaml'));
  const hit = median(hits);
  const cached = median(rows.warm[0]);
  console.log(
    `| ${engine.name} | reuse hit vs cached rebuild | ${fmt(cached, 0)} | ${fmt(hit, 0)} (${range(hits)}) | ${fmt(cached / hit)}x faster |`,
  );
  summary.push({ engine: engine.name, run: 'reuse', speedup: cached / hit });

  // The same with a registry in the stack, as pipelines that run elsewhere have: the reuse hit asks the
  // registry whether its image is still there, and the reference pushes after its cached build.
  if (REGISTRY) {
    const stack = path.join(dir, 'stack.yaml');
    writeFileSync(
      stack,
      JSON.stringify({
        name: 'bench',
        components: { container_registry: { flavor: 'default', uri: REGISTRY } },
      }),
    );
    const target = `${REGISTRY}/bench-ref-${engine.name}:1`;
    const buildAndPush = () =>
      time(engine.cli[0], [...engine.cli.slice(1), '-t', target, context], { env }) +
      time(engine.cli[0], [...engine.push, target], { env });
    buildAndPush();
    const pushed = Array.from({ length: ROUNDS }, buildAndPush);
    zenbuild('warm.yaml', ['--stack', stack]);
    const registryHits = Array.from({ length: ROUNDS }, () => zenbuild('warm.yaml', ['--stack', stack]));
    const r = median(pushed);
    const z = median(registryHits);
    console.log(
      `| ${engine.name} | reuse hit vs cached rebuild + push (registry ${REGISTRY}) | ${fmt(r, 0)} (${range(pushed)}) | ${fmt(z, 0)} (${range(registryHits)}) | ${fmt(r / z)}x faster |`,
    );
    summary.push({ engine: engine.name, run: 'reuse with a registry', speedup: r / z });
  }
}
// What a Node CLI on these clients pays before the engine does any work, in the same run: the floor
// under zenbuild's overhead. Each is a process of its own, as a user's run is.
const floors = [
  ['node, an empty script', [process.execPath, ['-e', '0']]],
  [
    'node, importing dockerode plainly',
    [
      process.execPath,
      ['--input-type=module', '-e', "await import('dockerode')"],
      { cwd: path.join(here, '../packages/docker') },
    ],
  ],
  [
    'node, importing dockerode as @zenbuild/docker does (each docker build, push, login)',
    [
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { loadDockerode } = await import(${JSON.stringify(path.join(here, '../packages/docker/dist/load-dockerode.js'))}); await loadDockerode();`,
      ],
    ],
  ],
  ['`podman version` (the availability check)', ['podman', ['version', '--format', '{{.Client.Version}}']]],
  [
    '`podman image inspect` of the parent',
    ['podman', ['image', 'inspect', '--format', '{{.Id}}', ENGINES[1].base]],
  ],
];
console.log('\n| floor: before the engine does any work | ms (median of 9) |');
console.log('|---|---:|');
for (const [name, [command, args, options]] of floors)
  console.log(
    `| ${name} | ${fmt(median(Array.from({ length: 9 }, () => time(command, args, options))), 0)} |`,
  );

console.log('');
for (const s of summary) {
  if (s.run.startsWith('reuse'))
    console.log(
      `${s.engine} reuse hit${s.run === 'reuse' ? '' : ' with a registry'} >= 10x faster than a cached rebuild${s.run === 'reuse' ? '' : ' + push'}: ${fmt(s.speedup)}x ${s.speedup >= 10 ? 'MET' : 'MISSED'}`,
    );
  else
    console.log(
      `${s.engine} ${s.run} overhead <= 5%: ${fmt(s.overhead * 100)}% ${s.overhead <= 0.05 ? 'MET' : 'MISSED'}`,
    );
}
