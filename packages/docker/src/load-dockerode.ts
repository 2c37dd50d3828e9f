import { lazyImport } from '@zenbuild/core/backend';
import type Docker from 'dockerode';

/**
 * dockerode requires, as it loads, ssh2 (through docker-modem, for `ssh://` hosts, which zenbuild does
 * not accept) and grpc-js with proto-loader (for BuildKit sessions, which zenbuild does not open):
 * about 125 ms of every build, push and login. Before the first import, each of them gets a stand-in in
 * require's cache, at the exact file the require resolves to, that loads the real module on first use.
 * A dependency that cannot be resolved keeps its normal, eager load.
 */
export const loadDockerode: () => Promise<typeof Docker> = lazyImport(async () => {
  // node:module loads here, not with the package: a run that builds nothing never needs it.
  deferUnusedDependencies(await import('node:module'));
  return (await import('dockerode')).default;
});

interface Deferred {
  /** Who requires it, as a chain of packages from dockerode. */
  from: string[];
  name: string;
  /** Exports read when the requiring module loads: they become constructors that load on `new`. */
  constructors: string[];
}

const DEFERRED: Deferred[] = [
  { from: ['docker-modem'], name: 'ssh2', constructors: ['Client'] },
  { from: [], name: '@grpc/grpc-js', constructors: [] },
  { from: [], name: '@grpc/proto-loader', constructors: [] },
];

let deferred = false;

/** The files given stand-ins, for the tests. */
export const deferredFiles: string[] = [];

type NodeModule = Pick<typeof import('node:module'), 'createRequire' | 'Module'>;

function deferUnusedDependencies({ createRequire, Module }: NodeModule): void {
  if (deferred) return;
  deferred = true;
  let fromDockerode: NodeJS.Require;
  try {
    fromDockerode = createRequire(createRequire(import.meta.url).resolve('dockerode'));
  } catch {
    return;
  }
  for (const dependency of DEFERRED) {
    try {
      let require = fromDockerode;
      for (const step of dependency.from) require = createRequire(require.resolve(step));
      const filename = require.resolve(dependency.name);
      if (require.cache[filename]) continue;
      require.cache[filename] = standIn(Module, require, filename, dependency.constructors);
      deferredFiles.push(filename);
    } catch {
      // Not where dockerode would find it (another layout): it loads as dockerode requires it.
    }
  }
}

function standIn(
  Module: NodeModule['Module'],
  require: NodeJS.Require,
  filename: string,
  constructors: string[],
): NodeJS.Module {
  let real: Record<string | symbol, unknown> | undefined;
  const load = () => {
    if (!real) {
      // The stand-in leaves the cache first, so this require (and every later one) gets the real module.
      delete require.cache[filename];
      real = require(filename) as Record<string | symbol, unknown>;
    }
    return real;
  };
  const eager: Record<string, unknown> = {};
  for (const name of constructors) {
    eager[name] = function Deferred(this: unknown, ...args: unknown[]) {
      const Real = load()[name] as new (...args: unknown[]) => unknown;
      return new Real(...args);
    };
  }
  const module = new Module(filename) as NodeJS.Module & { filename: string; loaded: boolean };
  module.filename = filename;
  module.loaded = true;
  module.exports = new Proxy(eager, {
    // Once the real module is loaded, every export is the real one, constructors included.
    get: (target, key) => (real || !(key in target) ? load()[key] : target[key as string]),
    has: (_, key) => key in load(),
  });
  return module;
}
