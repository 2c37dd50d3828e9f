// `zenbuild plan` of a 2,000-step config over 5 distinct settings, side by side with the same config of
// 5 steps, as a new user runs it: the whole CLI process, YAML file to printed plan. Target: the 2,000-step
// plan in at most 1.5x the 5-step time. The in-process rows show where the time goes, and the floor
// row is what no planner avoids: node's start and the CLI bundle's import (`zenbuild --version`).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultStack, describePlan, parseYaml, pipelineConfigFromData, planBuilds } from '@zenbuild/core';
import { fmt, median, scratchDir, timeShell } from './lib/measure.mjs';

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../apps/cli/dist/bundle/bin.js');
const dir = scratchDir('zenbuild-bench-plan-steps-');

/** A ZenML-style config: pipeline settings, and each step with one of `distinct` environments. */
function configText(steps, distinct) {
  const lines = [
    'name: bench',
    'settings:',
    '  docker:',
    '    parent_image: python:3.11-slim',
    '    requirements: [pandas==2.2.2]',
    '    apt_packages: [git]',
    'steps:',
  ];
  for (let i = 0; i < steps; i++) {
    lines.push(`  step_${i}:`, '    enable_cache: false', '    settings:', '      docker:');
    lines.push(`        environment: {VARIANT: "${i % distinct}"}`);
  }
  return `${lines.join('\n')}\n`;
}

const files = {};
for (const steps of [5, 2000]) {
  files[steps] = path.join(dir, `steps-${steps}.yaml`);
  writeFileSync(files[steps], configText(steps, 5));
}

const ROUNDS = Number(process.env.ROUNDS ?? 9);
const times = { 5: [], 2000: [], floor: [] };
// Alternating, so a slow moment of the machine hits every row alike.
for (let round = 0; round < ROUNDS; round++) {
  times.floor.push(timeShell(`node ${cli} --version > /dev/null`).ms);
  for (const steps of [5, 2000])
    times[steps].push(timeShell(`node ${cli} plan ${files[steps]} --json > /dev/null`).ms);
}

const inProcess = (steps) => {
  const text = readFileSync(files[steps], 'utf8');
  const rows = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const data = parseYaml(text, files[steps], 'pipeline config');
    const t1 = performance.now();
    const pipeline = pipelineConfigFromData(data, { baseDir: dir, env: {} });
    const t2 = performance.now();
    const plan = planBuilds({ pipeline, stack: defaultStack(), env: {} });
    const t3 = performance.now();
    JSON.stringify(describePlan(plan, {}), null, 2);
    const t4 = performance.now();
    rows.push([t1 - t0, t2 - t1, t3 - t2, t4 - t3]);
  }
  return [0, 1, 2, 3].map((col) => median(rows.map((r) => r[col])));
};

const five = median(times[5]);
const many = median(times[2000]);
const floor = median(times.floor);
console.log('| zenbuild plan --json (whole process) | median ms |');
console.log('|---|---:|');
console.log(`| floor: node start + bundle import (\`zenbuild --version\`) | ${fmt(floor)} |`);
console.log(`| 5 steps | ${fmt(five)} |`);
console.log(`| 2,000 steps, 5 distinct settings | ${fmt(many)} |`);
console.log(
  `\n2,000 steps / 5 steps: ${fmt(many / five, 2)}x (target 1.5x); above the floor: ${fmt((many - floor) / Math.max(five - floor, 1), 1)}x\n`,
);
console.log('| in process, median ms | read YAML | resolve settings | plan | plan as JSON |');
console.log('|---|---:|---:|---:|---:|');
for (const steps of [5, 2000])
  console.log(
    `| ${steps} steps | ${inProcess(steps)
      .map((v) => fmt(v))
      .join(' | ')} |`,
  );
