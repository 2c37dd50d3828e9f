import path from 'node:path';
import type { BuildStore, ObjectStorage, Stack, StoreProblem } from '../contracts.js';
import { invalidInput, notAvailable } from '../errors.js';
import { loadArtifactStoreFlavor, type ModuleImporter } from '../flavors/load.js';
import { ARTIFACT_STORE_PACKAGES } from '../flavors/table.js';
import { ensureZenbuildHome } from '../home/home.js';
import { LocalBuildStore } from './build-store.js';
import { directoryObjects } from './directory-objects.js';
import { ObjectBuildStore } from './object-build-store.js';

/** `local`: this machine's `$ZENBUILD_HOME`. `stack`: the stack's artifact store, shared by a team. */
export type StoreChoice = 'local' | 'stack';

export const STORE_ENV_VAR = 'ZENBUILD_STORE';

export interface OpenBuildStoreOptions {
  stack: Stack;
  env?: NodeJS.ProcessEnv;
  /** `--store`; default: ZENBUILD_STORE, else `stack` for an s3 or gcs artifact store, else `local`. */
  choice?: StoreChoice;
  onProblem?(problem: StoreProblem): void;
  importer?: ModuleImporter;
}

export interface OpenedBuildStore {
  store: BuildStore;
  /** True when the records are shared through the stack's artifact store. */
  shared: boolean;
  /** This machine's store: where a record goes when the shared one cannot take it. */
  local: LocalBuildStore;
  /** Why this store, for `zenbuild builds` and the build's output. */
  reason: string;
}

/**
 * The stack's artifact store as object storage: s3 and gcs through their backend packages, a local
 * store's `path` as a directory, and a local store without one as `$ZENBUILD_HOME/artifact_store` (where
 * ZenML's default local store would be in its own config folder).
 */
export async function artifactStoreObjects(
  stack: Stack,
  env: NodeJS.ProcessEnv,
  importer?: ModuleImporter,
): Promise<ObjectStorage> {
  const store = stack.artifactStore;
  if (store.flavor === 'local')
    return directoryObjects(store.path ?? path.join(ensureZenbuildHome(env), 'artifact_store'));
  if (!(store.flavor in ARTIFACT_STORE_PACKAGES) || !store.path)
    throw notAvailable(
      `zenbuild cannot write to a \`${store.flavor}\` artifact store yet (s3, gcs and local can).`,
    );
  const flavor = await loadArtifactStoreFlavor(store.flavor, importer);
  return flavor.objects(store.path, { stack, env });
}

/**
 * The build store for a stack. ZenML registers builds on its server, where the team finds them; zenbuild
 * keeps them where the stack already has a place everyone on it can write: its artifact store.
 */
export async function openBuildStore(options: OpenBuildStoreOptions): Promise<OpenedBuildStore> {
  const env = options.env ?? process.env;
  const local = new LocalBuildStore(ensureZenbuildHome(env), {
    ...(options.onProblem ? { onProblem: options.onProblem } : {}),
  });
  const artifactStore = options.stack.artifactStore;
  const fromEnv = env[STORE_ENV_VAR];
  if (fromEnv !== undefined && fromEnv !== '' && fromEnv !== 'local' && fromEnv !== 'stack')
    throw invalidInput(`${STORE_ENV_VAR} must be \`local\` or \`stack\`, not \`${fromEnv}\`.`);
  const shareable = artifactStore.flavor in ARTIFACT_STORE_PACKAGES;
  const choice: StoreChoice =
    options.choice ?? ((fromEnv || undefined) as StoreChoice | undefined) ?? (shareable ? 'stack' : 'local');
  if (choice === 'local') return { store: local, shared: false, local, reason: "this machine's store" };

  const onProblem = options.onProblem ? { onProblem: options.onProblem } : {};
  const storePath = artifactStore.path;
  if (artifactStore.flavor === 'local') {
    if (!storePath)
      throw invalidInput(
        `The stack's local artifact store \`${artifactStore.name}\` has no \`path\`, so it cannot keep shared build records; give it a path (a directory the team shares) or use \`--store local\`.`,
        { path: 'components.artifact_store.config.path' },
      );
    return {
      store: new ObjectBuildStore(directoryObjects(storePath), onProblem),
      shared: true,
      local,
      reason: `the stack's local artifact store ${storePath}`,
    };
  }
  if (!shareable || !storePath)
    throw notAvailable(
      `Build records cannot be kept in a \`${artifactStore.flavor}\` artifact store yet (s3, gcs and a local path can); use \`--store local\`.`,
    );
  const flavor = await loadArtifactStoreFlavor(artifactStore.flavor, options.importer);
  return {
    store: new ObjectBuildStore(flavor.objects(storePath, { stack: options.stack, env }), onProblem),
    shared: true,
    local,
    reason: `the stack's ${artifactStore.flavor} artifact store ${storePath}`,
  };
}
