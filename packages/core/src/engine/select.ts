import type { Availability, ContainerEngine, ContainerEngineName } from '../contracts.js';
import { invalidInput, notAvailable, ZenbuildError } from '../errors.js';
import { installHint, loadEngineFlavor, type ModuleImporter } from '../flavors/load.js';
import { ENGINE_PACKAGES } from '../flavors/table.js';

export const ENGINE_ENV_VAR = 'ZENML_CONTAINER_ENGINE';
const ENGINE_ORDER: ContainerEngineName[] = ['docker', 'podman'];

export interface EngineAttempt {
  engine: ContainerEngineName;
  available: boolean;
  reason: string;
}

export interface EngineSelection {
  engine: ContainerEngine;
  name: ContainerEngineName;
  /** Why this engine: pinned by the variable, or the first that answered. */
  reason: string;
  attempts: EngineAttempt[];
}

export interface SelectEngineOptions {
  env?: NodeJS.ProcessEnv;
  importer?: ModuleImporter;
  /** Passed to the engine's factory, e.g. `{ subprocess: true }` (ZenML's `use_subprocess_call`). */
  engineOptions?: Record<string, unknown>;
  /**
   * Called with each engine as soon as it is created, before its availability check has answered, to
   * start queries the caller will need anyway (a build's parent-image inspects) beside that check.
   * What it starts must expect the engine to turn out unavailable: the next candidate is then tried.
   */
  onEngine?: (engine: ContainerEngine) => void;
}

/**
 * Picks the local container engine: `ZENML_CONTAINER_ENGINE=docker|podman` pins one; otherwise Docker if
 * its package is installed and the daemon answers, then Podman. A pinned engine that is unavailable, or
 * no engine at all, is a NOT_AVAILABLE error that says what was tried and how to fix it.
 */
export async function selectEngine(options: SelectEngineOptions = {}): Promise<EngineSelection> {
  const env = options.env ?? process.env;
  const pinned = pinnedEngine(env);
  const candidates = pinned ? [pinned] : ENGINE_ORDER;
  const attempts: EngineAttempt[] = [];

  for (const name of candidates) {
    const { engine, availability } = await probeEngine(name, options);
    attempts.push({ engine: name, available: availability.available, reason: availability.reason });
    if (engine && availability.available) {
      const reason = pinned
        ? `${ENGINE_ENV_VAR}=${pinned} pins it; ${availability.reason}`
        : attempts.length === 1
          ? `first engine tried; ${availability.reason}`
          : `${attempts
              .slice(0, -1)
              .map((a) => `${a.engine} is not available (${a.reason})`)
              .join('; ')}; ${availability.reason}`;
      return { engine, name, reason, attempts };
    }
    if (pinned) {
      throw notAvailable(
        `The requested container engine ${pinned} (${ENGINE_ENV_VAR}=${pinned}) is not available: ${availability.reason}.${availability.hint ? ` ${availability.hint}` : ''}`,
        { backend: pinned, details: { attempts } },
      );
    }
  }
  throw notAvailable(
    `No container engine is available. Tried: ${attempts.map((a) => `${a.engine}: ${a.reason}`).join('; ')}. Install and start Docker (with ${ENGINE_PACKAGES.docker}), or install Podman (with ${ENGINE_PACKAGES.podman}), or pick one with ${ENGINE_ENV_VAR}=docker|podman.`,
    { details: { attempts } },
  );
}

export function pinnedEngine(env: NodeJS.ProcessEnv): ContainerEngineName | undefined {
  const raw = env[ENGINE_ENV_VAR]?.trim();
  if (!raw) return undefined;
  const value = raw.toLowerCase();
  if (value !== 'docker' && value !== 'podman') {
    throw invalidInput(
      `${ENGINE_ENV_VAR}=${raw} is not a container engine zenbuild knows; use \`docker\` or \`podman\`.`,
      {
        variable: ENGINE_ENV_VAR,
      },
    );
  }
  return value;
}

async function probeEngine(
  name: ContainerEngineName,
  { importer, engineOptions, onEngine, env }: SelectEngineOptions,
): Promise<{ engine?: ContainerEngine; availability: Availability }> {
  let engine: ContainerEngine;
  try {
    const flavor = await loadEngineFlavor(name, importer);
    const config = flavor.configSchema?.safeParse(engineOptions ?? {});
    if (config && !config.success) {
      throw invalidInput(
        `The ${name} engine's config is not valid: ${config.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`).join('; ')}.`,
      );
    }
    // The engine reads the caller's environment (DOCKER_HOST, REGISTRY_AUTH_FILE), not this process's.
    engine = flavor.create({ ...(env ? { env } : {}), ...engineOptions });
  } catch (error) {
    if (error instanceof ZenbuildError && error.code === 'NOT_AVAILABLE') {
      return {
        availability: {
          available: false,
          reason: `package ${ENGINE_PACKAGES[name]} is not installed`,
          hint: installHint(ENGINE_PACKAGES[name]),
        },
      };
    }
    throw error;
  }
  onEngine?.(engine);
  return { engine, availability: await engine.check() };
}

/** Per environment object: a program that builds for several environments gets an engine for each. */
const selections = new WeakMap<NodeJS.ProcessEnv, Map<string, Promise<EngineSelection>>>();

/**
 * selectEngine, probed once per process for a given pin (ZenML's get_container_engine re-probes on every call). Only
 * the call that probes sees `onEngine`.
 */
export function selectEngineOnce(options: SelectEngineOptions = {}): Promise<EngineSelection> {
  const env = options.env ?? process.env;
  const key = `${env[ENGINE_ENV_VAR] ?? ''} ${JSON.stringify(options.engineOptions ?? {})}`;
  let known = selections.get(env);
  if (!known) {
    known = new Map();
    selections.set(env, known);
  }
  const cache = known;
  let selection = cache.get(key);
  if (!selection) {
    selection = selectEngine(options);
    // A failed probe is not cached: the user may start the daemon and try again in the same process.
    selection.catch(() => cache.delete(key));
    cache.set(key, selection);
  }
  return selection;
}
