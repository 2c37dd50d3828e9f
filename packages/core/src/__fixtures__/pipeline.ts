import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type PipelineConfig, pipelineConfigFromData } from '../pipeline-config/pipeline-config.js';
import { type BuildPlan, type PlanInput, planBuilds } from '../plan/plan.js';
import { defaultStack, type Stack, stackFromData } from '../stack/stack.js';

/** A fresh project directory with the given files (path → content). */
export function project(files: Record<string, string | Uint8Array> = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'zenbuild-test-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

export function pipeline(
  data: Record<string, unknown>,
  dir = project(),
  env: NodeJS.ProcessEnv = {},
): PipelineConfig {
  return pipelineConfigFromData({ name: 'training', ...data }, { baseDir: dir, env });
}

/** The pipeline-level docker settings shorthand most tests need. */
export function dockerPipeline(
  docker: Record<string, unknown>,
  dir?: string,
  env?: NodeJS.ProcessEnv,
): PipelineConfig {
  return pipeline({ settings: { docker } }, dir, env);
}

export function stack(data?: Record<string, unknown>): Stack {
  return data ? stackFromData({ name: 'test', ...data }).stack : defaultStack();
}

export const localRegistryStack = () =>
  stack({ components: { container_registry: { flavor: 'default', uri: '127.0.0.1:5000' } } });

export function plan(p: PipelineConfig, extra: Partial<PlanInput> = {}): BuildPlan {
  return planBuilds({ pipeline: p, stack: extra.stack ?? defaultStack(), env: {}, ...extra });
}

/** The only image of a single-image plan. */
export function onlyImage(p: BuildPlan) {
  const images = Object.values(p.images);
  if (images.length !== 1) throw new Error(`expected one image, got ${images.length}`);
  return images[0] as NonNullable<(typeof images)[number]>;
}

/** Runs `fn`, expects a ZenbuildError, returns it for assertions on code, message and path. */
export function errorOf(fn: () => unknown): import('../errors.js').ZenbuildError {
  try {
    fn();
  } catch (error) {
    if ((error as { name?: string }).name === 'ZenbuildError')
      return error as import('../errors.js').ZenbuildError;
    throw error;
  }
  throw new Error('expected a ZenbuildError, nothing was thrown');
}

export async function asyncErrorOf(
  fn: () => Promise<unknown>,
): Promise<import('../errors.js').ZenbuildError> {
  try {
    await fn();
  } catch (error) {
    if ((error as { name?: string }).name === 'ZenbuildError')
      return error as import('../errors.js').ZenbuildError;
    throw error;
  }
  throw new Error('expected a ZenbuildError, nothing was thrown');
}
