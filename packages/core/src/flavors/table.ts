import type { ContainerEngineName } from '../contracts.js';

/**
 * Which package provides which flavor. Core depends on none of them: a backend is imported only when a
 * stack (or the engine choice) asks for it, so a user installs just the one they use.
 */
export interface ImageBuilderFlavorInfo {
  /** `undefined` for the flavor core implements itself. */
  package?: string;
  isBuildingLocally: boolean;
  /** ZenML integration whose requirements the stack brings into images. */
  integration?: string;
}

export const IMAGE_BUILDER_FLAVORS: Record<string, ImageBuilderFlavorInfo> = {
  local: { isBuildingLocally: true },
  aws: { package: '@zenbuild/aws', isBuildingLocally: false, integration: 'aws' },
  gcp: { package: '@zenbuild/gcp', isBuildingLocally: false, integration: 'gcp' },
};

export const ENGINE_PACKAGES: Record<ContainerEngineName, string> = {
  docker: '@zenbuild/docker',
  podman: '@zenbuild/podman',
};

/** The packages that can keep build records in an artifact store of a flavor (its `artifactStore`). */
export const ARTIFACT_STORE_PACKAGES: Record<string, string> = {
  s3: '@zenbuild/aws',
  gcs: '@zenbuild/gcp',
};
