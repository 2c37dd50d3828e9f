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
  /** Where records are found and kept: this machine's store, or the stack's artifact store. */
  store: BuildStore;
  /** This machine's store: where a record goes when the shared one cannot take it. */
  local: LocalBuildStore;
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
  if (choice === 'local') return { store: local, local };
  // A local artifact store without a path has no place a team shares (for code archives zenbuild falls
  // back to its own home, which is no use to anyone else).
  if (artifactStore.flavor === 'local' && !artifactStore.path)
    throw invalidInput(
      `The stack's local artifact store \`${artifactStore.name}\` has no \`path\`, so it cannot keep shared build records; give it a path (a directory the team shares) or use \`--store local\`.`,
      { path: 'components.artifact_store.config.path' },
    );
  const objects = await artifactStoreObjects(options.stack, env, options.importer);
  return {
    store: new ObjectBuildStore(objects, options.onProblem ? { onProblem: options.onProblem } : {}),
    local,
  };
}
