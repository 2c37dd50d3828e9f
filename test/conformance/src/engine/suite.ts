import type { ContainerRegistry } from '@zenbuild/core';
import { type ContainerEngine, RegistryClient } from '@zenbuild/core/backend';
import { describe } from 'vitest';
import type { TestRegistries } from '../registries.js';
import { engineBuildCases } from './build.js';
import { engineBuildkitCases } from './buildkit.js';
import { engineCancellationCases } from './cancellation.js';
import { engineContextCases } from './context.js';
import { engineCredentialsCases } from './credentials.js';
import { engineErrorsCases } from './errors.js';
import { enginePushCases } from './push.js';
import { engineReuseCases } from './reuse.js';

/** What the suite needs from an engine's test file. */
export interface EngineHarness {
  engine: ContainerEngine;
  /** An offline base image this engine has. */
  baseImage: string;
  /** Runs a command in a container of `image` with this engine and returns its output. */
  run(image: string, command: string[]): string;
  /** The same engine with another environment (for credentials from a docker config). */
  withEnv(env: NodeJS.ProcessEnv): ContainerEngine;
  /** `history --no-trunc` of an image, with this engine's CLI. */
  history(image: string): string;
  /** The image as `save` writes it: every layer's bytes. */
  save(image: string): Buffer;
}

/** What an engine can do that not every engine can. */
export interface EngineCapabilities {
  /** Builds with BuildKit: `RUN --mount=type=cache|secret` (default: false). */
  buildkit?: boolean;
}

/** The features of the suite, each a file of cases; an engine runs all of them unless it says otherwise. */
export const ENGINE_FEATURES = {
  build: engineBuildCases,
  push: enginePushCases,
  credentials: engineCredentialsCases,
  errors: engineErrorsCases,
  cancellation: engineCancellationCases,
  reuse: engineReuseCases,
  context: engineContextCases,
  buildkit: engineBuildkitCases,
} as const;

export type EngineFeature = keyof typeof ENGINE_FEATURES;

export interface EngineSuiteOptions {
  /** The real registries the cases push to and pull from (the e2e run's global setup starts them). */
  registries: TestRegistries;
  /** Only these features (default: all). */
  features?: EngineFeature[];
  capabilities?: EngineCapabilities;
}

/** What every feature's cases get. */
export interface EngineSuite {
  name: string;
  harness: () => EngineHarness;
  registries: TestRegistries;
  capabilities: EngineCapabilities;
  /** A registry client with no docker config of its own, for checking what a push left. */
  registryClient: RegistryClient;
  /** The registry with htpasswd auth, with the stack's credentials unless told otherwise. */
  authRegistry(options?: { credentials?: boolean }): ContainerRegistry;
}

/**
 * The behaviour every ContainerEngine must have, proven against the real engine and real registries
 * (keyv's idea: one suite, every adapter runs it from a few lines).
 */
export function containerEngineConformance(
  name: string,
  harness: () => EngineHarness,
  options: EngineSuiteOptions,
): void {
  const { auth, user, password } = options.registries;
  const suite: EngineSuite = {
    name,
    harness,
    registries: options.registries,
    capabilities: options.capabilities ?? {},
    registryClient: new RegistryClient({ env: { DOCKER_CONFIG: '/nonexistent-zenbuild' } }),
    authRegistry: ({ credentials = true } = {}) => ({
      flavor: 'default',
      name: 'auth',
      uri: auth,
      ...(credentials ? { credentials: { username: user, password } } : {}),
    }),
  };
  describe(`ContainerEngine conformance: ${name}`, () => {
    for (const feature of options.features ?? (Object.keys(ENGINE_FEATURES) as EngineFeature[])) {
      describe(feature, () => ENGINE_FEATURES[feature](suite));
    }
  });
}
