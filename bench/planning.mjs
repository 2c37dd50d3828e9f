// Planning benchmark: a pipeline of many steps with few distinct settings. The time must grow with the
// number of distinct images, not with the number of steps (ZenML had to fix exactly this: PR #5154).
// Reference in the same run: planning each step on its own, as a per-step planner does.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { defaultStack, pipelineConfigFromData, planBuilds } from '@zenbuild/core';
import { fmt, median, scratchDir } from './lib/measure.mjs';

const dir = scratchDir('zenbuild-bench-plan-');
writeFileSync(path.join(dir, 'requirements.txt'), 'pandas==2.2.2\nscikit-learn==1.5.1\n');
const stack = defaultStack();

function config(steps, distinct) {
  return {
    name: 'bench',
    settings: {
      docker: { parent_image: 'python:3.11-slim', requirements: 'requirements.txt', apt_packages: ['git'] },
    },
    steps: Object.fromEntries(
      Array.from({ length: steps }, (_, i) => [
        `step_${i}`,
        {
          settings: {
            docker: { environment: { VARIANT: String(i % distinct) }, required_integrations: ['sklearn'] },
          },
        },
      ]),
    ),
  };
}

function timeIt(fn, rounds = 5) {
  const times = [];
  let result;
  for (let i = 0; i < rounds; i++) {
    const start = process.hrtime.bigint();
    result = fn();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return { ms: median(times), result };
}

// Warm up the JIT so the first row is not measuring compilation.
planBuilds({ pipeline: pipelineConfigFromData(config(200, 20), { baseDir: dir, env: {} }), stack, env: {} });

const rows = [];
for (const [steps, distinct] of [
  [50, 5],
  [500, 5],
  [5000, 5],
  [500, 50],
  [500, 500],
]) {
  const data = config(steps, distinct);
  const resolve = timeIt(() => pipelineConfigFromData(data, { baseDir: dir, env: {} }));
  const plan = timeIt(() => planBuilds({ pipeline: resolve.result, stack, env: {} }));
  const builds = plan.result.builds.length;
  // The reference: every step planned on its own, the way a per-step planner (ZenML before #5154) works.
  const perStep = timeIt(() => {
    for (const step of resolve.result.steps)
      planBuilds({ pipeline: { ...resolve.result, steps: [step] }, stack, env: {} });
  }, 1);
  rows.push([steps, distinct, builds, resolve.ms, plan.ms, perStep.ms]);
}
console.log(
  '| steps | distinct settings | builds planned | resolve ms | planBuilds ms | per-step planning ms (reference) |',
);
console.log('|---:|---:|---:|---:|---:|---:|');
for (const [steps, distinct, builds, resolveMs, planMs, perStepMs] of rows) {
  console.log(
    `| ${steps} | ${distinct} | ${builds} | ${fmt(resolveMs)} | ${fmt(planMs)} | ${fmt(perStepMs)} |`,
  );
}
const at = (s, d) => rows.find((r) => r[0] === s && r[1] === d);
const growth = at(5000, 5)[4] / at(50, 5)[4];
console.log(
  `\nplanBuilds, 100x the steps at 5 distinct settings: ${fmt(growth, 1)}x the time; 100x the distinct images (500 steps): ${fmt(at(500, 500)[4] / at(500, 5)[4], 1)}x`,
);
