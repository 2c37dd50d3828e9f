import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DOCKER_SETTINGS_FIELDS } from '@zenbuild/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type CliResult, tempHome } from '../helpers/cli.js';
import { zenbuildInProcess } from '../helpers/in-process.js';
import { CONFIG_LINES, linesOf } from './yaml-lines.js';

// Any input gives a plan or a clean error with exit 2: never an internal error, a stack trace, or a
// command run. `pnpm test` runs a bounded number of cases; `pnpm fuzz` runs many more
// (ZENBUILD_FUZZ_RUNS).
const numRuns = Number(process.env.ZENBUILD_FUZZ_RUNS ?? 60);
const timeout = Math.max(30_000, numRuns * 400);

const home = tempHome();
// A pinned engine that does not answer: a case that got past planning into a build would exit 3.
const env = {
  ZENBUILD_HOME: home,
  ZENML_CONTAINER_ENGINE: 'docker',
  DOCKER_HOST: 'unix:///nonexistent/zenbuild-fuzz.sock',
  PATH: process.env.PATH,
  SET_VAR: 'value-of-set-var',
};

function expectCleanOutcome(result: CliResult, allowed: Array<number | null> = [0, 2]) {
  expect(result.stderr).not.toMatch(/internal error|\n\s+at .+:\d+:\d+/);
  expect(allowed, result.stderr).toContain(result.code);
  if (result.code === 2) expect(result.stderr).toMatch(/^zenbuild: \S/m);
}

/** Text that looks like YAML more often than random text does. */
const yamlish = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  linesOf(
    [...CONFIG_LINES, '&a [*a, *a]', '\t', '!!binary x', '? x', '<<: *a', '%YAML 1.1'],
    fc.string({ maxLength: 30 }),
    12,
  ),
);

/** A value of any YAML shape, with strings that carry placeholders, escapes and control characters. */
const anyValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: false }),
    fc.string({ maxLength: 40 }),
    fc.constantFrom(
      '${SET_VAR}',
      '${UNSET_VAR}',
      '$${X}',
      '-r /etc/shadow',
      '--index-url http://e/s',
      'a\0b',
      'x'.repeat(70_000),
      '../../etc/passwd',
      '/',
      'pip_freeze',
      'yes',
      '0755',
    ),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 12 }), tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** Settings with real field names (and the odd unknown one), each with any value. */
const anySettings = fc.dictionary(
  fc.oneof(fc.constantFrom(...DOCKER_SETTINGS_FIELDS), fc.string({ maxLength: 12 })),
  anyValue,
  { maxKeys: 6 },
);

function writeProject(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-fuzz-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  return dir;
}

describe('property: the loaders take any input cleanly', () => {
  it(
    'any pipeline text: a plan or exit 2',
    async () => {
      await fc.assert(
        fc.asyncProperty(yamlish, async (text) => {
          const dir = writeProject({ 'pipeline.yaml': text });
          try {
            expectCleanOutcome(
              await zenbuildInProcess(['plan', path.join(dir, 'pipeline.yaml'), '--json'], env),
            );
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        }),
        { numRuns },
      );
    },
    timeout,
  );

  it(
    'any value of any settings field, at pipeline and step level: a plan or exit 2 naming the field',
    async () => {
      await fc.assert(
        fc.asyncProperty(anySettings, fc.option(anySettings), async (docker, step) => {
          const config = {
            name: 'fuzz',
            settings: { docker: { parent_image: 'team/base:1', ...docker } },
            ...(step ? { steps: { trainer: { settings: { docker: step } } } } : {}),
          };
          const dir = writeProject({ 'pipeline.yaml': stringify(config, { aliasDuplicateObjects: false }) });
          try {
            const result = await zenbuildInProcess(['build', path.join(dir, 'pipeline.yaml'), '--json'], env);
            // 3: the plan is good and the build reached the (absent) engine; nothing was built.
            expectCleanOutcome(result, [0, 2, 3]);
            if (result.code === 2) expect(result.stderr).toMatch(/settings\.docker|pipeline\.yaml|\/tmp\//);
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        }),
        { numRuns },
      );
    },
    timeout,
  );

  it(
    'any stack document: valid or exit 2',
    async () => {
      const component = fc.record(
        {
          flavor: fc.oneof(
            fc.constantFrom('default', 'local', 'aws', 'gcp', 's3', 'gcs', 'kaniko'),
            fc.string({ maxLength: 8 }),
          ),
          uri: anyValue,
          config: anyValue,
          path: anyValue,
          credentials: anyValue,
        },
        { requiredKeys: [] },
      );
      const stack = fc.record(
        {
          name: anyValue,
          components: fc.oneof(
            anyValue,
            fc.dictionary(
              fc.constantFrom('image_builder', 'container_registry', 'artifact_store', 'orchestrator', 'x'),
              component,
              { maxKeys: 4 },
            ),
          ),
        },
        { requiredKeys: [] },
      );
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            stack.map((s) => stringify(s)),
            yamlish,
          ),
          async (text) => {
            const dir = writeProject({ 'stack.yaml': text });
            try {
              expectCleanOutcome(
                await zenbuildInProcess(['stack', 'validate', path.join(dir, 'stack.yaml'), '--json'], env),
              );
            } finally {
              rmSync(dir, { recursive: true, force: true });
            }
          },
        ),
        { numRuns },
      );
    },
    timeout,
  );
});

describe('property: any file tree and dockerignore give a context or exit 2', () => {
  // Names as a file system allows them: anything but `/` and NUL, and not `.` or `..`.
  const name = fc
    .string({ unit: 'grapheme', minLength: 1, maxLength: 12 })
    .filter(
      (n) => !n.includes('/') && !n.includes('\0') && n !== '.' && n !== '..' && Buffer.byteLength(n) < 200,
    );
  const tree = fc.letrec((tie) => ({
    node: fc.dictionary(name, fc.oneof({ depthSize: 'small' }, fc.string({ maxLength: 20 }), tie('node')), {
      maxKeys: 5,
    }),
  })).node;
  const ignoreLine = fc.oneof(
    fc.string({ maxLength: 10 }),
    fc.constantFrom(
      '*',
      '**',
      '!*',
      '[',
      'a[b',
      '[a-',
      '\\',
      '!',
      '#c',
      '/',
      '**/x',
      '?',
      '[!a]*',
      '.',
      '..',
    ),
  );

  function writeTree(dir: string, node: Record<string, unknown>): void {
    for (const [entry, value] of Object.entries(node)) {
      const at = path.join(dir, entry);
      if (typeof value === 'string') writeFileSync(at, value);
      else {
        mkdirSync(at, { recursive: true });
        writeTree(at, value as Record<string, unknown>);
      }
    }
  }

  it(
    'zenbuild context DIR',
    async () => {
      await fc.assert(
        fc.asyncProperty(tree, fc.option(fc.array(ignoreLine, { maxLength: 6 })), async (files, ignore) => {
          const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-fuzz-tree-'));
          try {
            writeTree(dir, files);
            if (ignore) writeFileSync(path.join(dir, '.dockerignore'), ignore.join('\n'));
            const result = await zenbuildInProcess(['context', dir, '--json'], env);
            expectCleanOutcome(result);
            if (result.code === 0) expect(JSON.parse(result.stdout).hash).toMatch(/^[0-9a-f]{64}$/);
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        }),
        { numRuns },
      );
    },
    timeout,
  );
});
