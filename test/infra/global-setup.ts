import type { TestProject } from 'vitest/node';
import { startRegistries, type TestRegistries } from './registries.js';

declare module 'vitest' {
  export interface ProvidedContext {
    registries: TestRegistries;
  }
}

/** Real registries for the whole e2e run, stopped when it ends. */
export default async function setup(project: TestProject) {
  const { registries, stop } = await startRegistries();
  project.provide('registries', registries);
  return stop;
}
