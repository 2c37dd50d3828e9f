import type { TestProject } from 'vitest/node';
import { ensureBusyboxImage, ensureDockerd, ensurePodmanBusyboxImage } from './dockerd.js';
import { startRegistries, type TestRegistries } from './registries.js';

declare module 'vitest' {
  export interface ProvidedContext {
    registries: TestRegistries;
    /** An offline base image every engine test builds on, in Docker and in Podman. */
    baseImage: string;
    podmanBaseImage: string;
  }
}

/** Real registries and a real Docker daemon for the whole e2e run, stopped when it ends. */
export default async function setup(project: TestProject) {
  // Registries from `scripts/test-infra.sh up` when its environment is loaded, else our own for this run.
  const { registries, stop } = fromEnvironment() ?? (await startRegistries());
  let stopDockerd = async () => {};
  try {
    stopDockerd = await ensureDockerd();
    project.provide('registries', registries);
    project.provide('baseImage', ensureBusyboxImage());
    project.provide('podmanBaseImage', ensurePodmanBusyboxImage());
  } catch (error) {
    // Without a teardown vitest would leave what was already started running.
    await stop();
    await stopDockerd();
    throw error;
  }
  return async () => {
    await stop();
    await stopDockerd();
  };
}

function fromEnvironment(): { registries: TestRegistries; stop: () => Promise<void> } | undefined {
  const { ZENBUILD_TEST_REGISTRY: open, ZENBUILD_TEST_AUTH_REGISTRY: auth } = process.env;
  const { ZENBUILD_TEST_REGISTRY_USER: user, ZENBUILD_TEST_REGISTRY_PASSWORD: password } = process.env;
  if (!open || !auth || !user || !password) return undefined;
  return { registries: { open, auth, user, password }, stop: async () => {} };
}
