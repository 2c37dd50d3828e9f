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
  const { registries, stop } = await startRegistries();
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
