import type { ContainerRegistry } from '@zenbuild/core';
import { type ImageBuilder, RegistryClient } from '@zenbuild/core/backend';
import { describe } from 'vitest';
import type { TestRegistries } from '../registries.js';
import { builderBuildCases } from './build.js';
import { builderCredentialsCases } from './credentials.js';
import { builderErrorsCases } from './errors.js';
import { builderPushCases } from './push.js';

export interface BuilderHarness {
  builder: ImageBuilder;
  /** An offline base image the builder's engine has locally (never pulled from a registry). */
  baseImage: string;
  run(image: string, command: string[]): string;
}

export interface BuilderCapabilities {
  /**
   * A builder that builds elsewhere (CodeBuild, Cloud Build): every build pushes to the stack's
   * registry (of this flavor), and it logs in to it by its own config, never with the stack's plain
   * credentials.
   */
  remote?: { registryFlavor: string };
}

export const BUILDER_FEATURES = {
  build: builderBuildCases,
  push: builderPushCases,
  credentials: builderCredentialsCases,
  errors: builderErrorsCases,
} as const;

export type BuilderFeature = keyof typeof BUILDER_FEATURES;

export interface BuilderSuiteOptions extends BuilderCapabilities {
  registries: TestRegistries;
  /** Only these features (default: all). */
  features?: BuilderFeature[];
}

/** What every feature's cases get. */
export interface BuilderSuite extends BuilderCapabilities {
  name: string;
  harness: () => BuilderHarness;
  registries: TestRegistries;
  /** A registry client that knows the auth registry's credentials, for checking what a push left. */
  client: RegistryClient;
  /** The open registry as the stack's, of the builder's registry flavor. */
  openRegistry(uri?: string): ContainerRegistry;
}

/**
 * What every ImageBuilder must do (the ImageBuilder contract, packages/core/src/contracts.ts): build a
 * request, push when given a registry and return `repository@sha256:<digest>` as the registry reports
 * it, honour the build options, keep the image local otherwise (or, built elsewhere, refuse to build
 * without a registry), and refuse an image name outside the registry before building.
 */
export function imageBuilderConformance(
  name: string,
  harness: () => BuilderHarness,
  options: BuilderSuiteOptions,
): void {
  const { registries, remote } = options;
  const suite: BuilderSuite = {
    name,
    harness,
    registries,
    ...(remote ? { remote } : {}),
    client: new RegistryClient({
      env: { DOCKER_CONFIG: '/nonexistent-zenbuild' },
      credentials: { [registries.auth]: { username: registries.user, password: registries.password } },
    }),
    openRegistry: (uri = registries.open) => ({
      flavor: remote?.registryFlavor ?? 'default',
      name: 'open',
      uri,
    }),
  };
  describe(`ImageBuilder conformance: ${name}`, () => {
    for (const feature of options.features ?? (Object.keys(BUILDER_FEATURES) as BuilderFeature[])) {
      // A remote builder logs in by its own config, never with the stack's plain credentials: its
      // backend's own tests cover that, so the credentials cases are a local builder's.
      if (remote && feature === 'credentials') continue;
      describe(feature, () => BUILDER_FEATURES[feature](suite));
    }
  });
}
