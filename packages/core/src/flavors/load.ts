import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type {
  ArtifactStoreFlavor,
  ContainerEngineFlavor,
  ContainerEngineName,
  ImageBuilderFlavor,
} from '../contracts.js';
import { notAvailable, ZenbuildError } from '../errors.js';
import { ARTIFACT_STORE_PACKAGES, ENGINE_PACKAGES, IMAGE_BUILDER_FLAVORS } from './table.js';

/** Loads the package behind a flavor (the table in table.ts says which) only when it is asked for. */

/** How modules are loaded; tests and bundlers can pass their own (unstorage's `importLib` idea). */
export type ModuleImporter = (specifier: string) => Promise<unknown>;

/**
 * Imports a backend from where core is installed, else from the user's project (the current directory):
 * a backend added next to the CLI is found whatever the package manager's layout.
 */
export const defaultImporter: ModuleImporter = async (specifier) => {
  try {
    return await import(specifier);
  } catch (error) {
    if (!isModuleNotFound(error, specifier)) throw error;
    let resolved: string;
    try {
      const { createRequire } = await import('node:module');
      resolved = createRequire(path.join(process.cwd(), 'package.json')).resolve(specifier);
    } catch {
      throw error;
    }
    return import(pathToFileURL(resolved).href);
  }
};

/** The install hint shown whenever a backend package is missing. */
export function installHint(pkg: string): string {
  return `Install it next to zenbuild: \`pnpm add ${pkg}\` (or \`npm install ${pkg}\`).`;
}

/**
 * Imports a backend package. A missing package is a NOT_AVAILABLE error (exit 3) that names the package
 * to install; a package that is there but fails to load keeps its own error as the cause.
 */
export async function importBackend(
  pkg: string,
  purpose: string,
  importer: ModuleImporter = defaultImporter,
): Promise<Record<string, unknown>> {
  try {
    return (await importer(pkg)) as Record<string, unknown>;
  } catch (error) {
    if (isModuleNotFound(error, pkg)) {
      throw notAvailable(`${purpose} needs the package ${pkg}, which is not installed. ${installHint(pkg)}`, {
        backend: pkg,
        cause: error,
      });
    }
    throw notAvailable(
      `${purpose}: the package ${pkg} is installed but failed to load: ${messageOf(error)}`,
      {
        backend: pkg,
        cause: error,
      },
    );
  }
}

export async function loadImageBuilderFlavor(
  name: string,
  importer: ModuleImporter = defaultImporter,
): Promise<ImageBuilderFlavor> {
  const info = IMAGE_BUILDER_FLAVORS[name];
  if (!info?.package) {
    throw new ZenbuildError('INTERNAL', `Image builder flavor \`${name}\` is not provided by a package.`);
  }
  const module = await importBackend(info.package, `The image builder flavor \`${name}\``, importer);
  const flavor = module.flavor as ImageBuilderFlavor | undefined;
  if (!flavor || flavor.name !== name || typeof flavor.create !== 'function') {
    throw notAvailable(
      `The package ${info.package} does not export an image builder flavor named \`${name}\`.`,
      {
        backend: info.package,
      },
    );
  }
  return flavor;
}

export async function loadEngineFlavor(
  name: ContainerEngineName,
  importer: ModuleImporter = defaultImporter,
): Promise<ContainerEngineFlavor> {
  const pkg = ENGINE_PACKAGES[name];
  const module = await importBackend(pkg, `The ${name} container engine`, importer);
  const flavor = module.engine as ContainerEngineFlavor | undefined;
  if (!flavor || flavor.name !== name || typeof flavor.create !== 'function') {
    throw notAvailable(`The package ${pkg} does not export a container engine named \`${name}\`.`, {
      backend: pkg,
    });
  }
  return flavor;
}

/** The package that keeps build records in an artifact store of this flavor, loaded when asked for. */
export async function loadArtifactStoreFlavor(
  name: string,
  importer: ModuleImporter = defaultImporter,
): Promise<ArtifactStoreFlavor> {
  const pkg = ARTIFACT_STORE_PACKAGES[name];
  if (!pkg)
    throw new ZenbuildError('INTERNAL', `No package keeps build records in a \`${name}\` artifact store.`);
  const module = await importBackend(pkg, `A build store in the \`${name}\` artifact store`, importer);
  const flavor = module.artifactStore as ArtifactStoreFlavor | undefined;
  if (!flavor || flavor.name !== name || typeof flavor.objects !== 'function') {
    throw notAvailable(`The package ${pkg} does not export an artifact store named \`${name}\`.`, {
      backend: pkg,
    });
  }
  return flavor;
}

function isModuleNotFound(error: unknown, pkg: string): boolean {
  const code = (error as { code?: string } | undefined)?.code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  // A missing dependency *of* the package is a broken install, not a missing package.
  return messageOf(error).includes(`'${pkg}'`) || messageOf(error).includes(`"${pkg}"`);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
