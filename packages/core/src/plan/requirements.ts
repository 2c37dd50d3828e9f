import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { getIntegration, type IntegrationCatalog } from '../catalog/integrations.js';
import { fileProblem, readProblem } from '../config/file-problem.js';
import { invalidInput, notAvailable } from '../errors.js';
import type { DockerSettings } from '../settings/docker-settings.js';
import { runProgram } from '../util/run-program.js';

/** One requirements file that goes into the build context and gets its own install step. */
export interface RequirementFile {
  /** File name in the build context (ZenML's names). */
  name: string;
  content: string;
  /** Where it came from, for the plan's explanation. */
  source: string;
}

export const REQUIREMENT_FILE_NAMES = {
  local: '.zenml_local_requirements',
  stack: '.zenml_stack_integration_requirements',
  integrations: '.zenml_integration_requirements',
  pyproject: '.zenml_pyproject_requirements',
  user: '.zenml_user_requirements',
} as const;

/**
 * Outputs of client-side commands (pip freeze, pyproject export). The plan takes them as inputs so that
 * planning itself stays pure; `collectClientInputs` runs the commands.
 */
export interface ClientInputs {
  /** Command line (joined with spaces) → its standard output. */
  commandOutputs: Record<string, string>;
}

export interface RequirementSources {
  settings: DockerSettings;
  /** Where the settings sit, for messages: `steps.trainer.settings.docker`. */
  where: string;
  baseDir: string;
  sourceRoot: string;
  catalog: IntegrationCatalog;
  /** Integrations the stack's components bring (when `install_stack_requirements`). */
  stackIntegrations: string[];
  clientInputs: ClientInputs;
}

export interface GatheredRequirements {
  files: RequirementFile[];
  /** Apt packages of the stack and the required integrations (the settings' own come first). */
  aptPackages: string[];
}

/** The command that exports the local environment, when `replicate_local_python_environment` asks for one. */
export function localEnvironmentCommand(settings: DockerSettings): string[] | undefined {
  const replicate = settings.replicateLocalPythonEnvironment;
  if (replicate === true || replicate === 'pip_freeze') return ['pip', 'freeze'];
  if (replicate === 'poetry_export') return ['poetry', 'export', '--format=requirements.txt'];
  if (Array.isArray(replicate)) return replicate;
  return undefined;
}

function pyprojectFor(settings: DockerSettings, baseDir: string, sourceRoot: string): string | undefined {
  if (settings.pyprojectPath) return path.resolve(baseDir, settings.pyprojectPath);
  if (autoDetected(settings, sourceRoot) === 'pyproject') return path.join(sourceRoot, 'pyproject.toml');
  return undefined;
}

/** The export command, or the ones ZenML tries in order (uv, then poetry), with `{directory}` filled in. */
function pyprojectCommands(settings: DockerSettings, pyproject: string): string[][] {
  const directory = path.dirname(pyproject);
  if (settings.pyprojectExportCommand) {
    return [settings.pyprojectExportCommand.map((part) => part.replaceAll('{directory}', directory))];
  }
  return [
    [
      'uv',
      'export',
      `--directory=${directory}`,
      '--no-hashes',
      '--no-emit-project',
      '--format=requirements-txt',
    ],
    ['poetry', 'export', `--directory=${directory}`, '--format=requirements.txt', '--without-hashes'],
  ];
}

/** ZenML's automatic detection: only when enabled and nothing else names the requirements. */
function autoDetected(
  settings: DockerSettings,
  sourceRoot: string,
): 'requirements' | 'pyproject' | undefined {
  if (settings.disableAutomaticRequirementsDetection) return undefined;
  if (settings.replicateLocalPythonEnvironment || settings.pyprojectPath || settings.requirements)
    return undefined;
  if (existsSync(path.join(sourceRoot, 'requirements.txt'))) return 'requirements';
  if (existsSync(path.join(sourceRoot, 'pyproject.toml'))) return 'pyproject';
  return undefined;
}

export const commandKey = (command: string[]) => command.join(' ');

/**
 * Gathers the requirement files in ZenML's order (`gather_requirements_files`): local environment, stack, integrations,
 * pyproject export, user requirements. Reads files; runs nothing.
 */
export function gatherRequirements(sources: RequirementSources): GatheredRequirements {
  const { settings, where, baseDir, sourceRoot, catalog, clientInputs } = sources;
  const files: RequirementFile[] = [];
  const aptPackages: string[] = [];

  const command = localEnvironmentCommand(settings);
  if (command) {
    files.push({
      name: REQUIREMENT_FILE_NAMES.local,
      content: requireOutput(clientInputs, [command], `${where}.replicate_local_python_environment`),
      source: `local environment (\`${commandKey(command)}\`)`,
    });
  }

  if (settings.installStackRequirements && sources.stackIntegrations.length > 0) {
    const requirements = new Set<string>();
    for (const name of sources.stackIntegrations) {
      const integration = getIntegration(catalog, name, 'stack');
      for (const r of integration.requirements) requirements.add(r);
      aptPackages.push(...integration.aptPackages);
    }
    if (requirements.size > 0) {
      files.push({
        name: REQUIREMENT_FILE_NAMES.stack,
        content: [...requirements].sort().join('\n'),
        source: `stack integrations (${sources.stackIntegrations.join(', ')})`,
      });
    }
  }

  if (settings.requiredIntegrations.length > 0) {
    const requirements = new Set<string>();
    settings.requiredIntegrations.forEach((name, index) => {
      const integration = getIntegration(catalog, name, `${where}.required_integrations[${index}]`);
      for (const r of integration.requirements) requirements.add(r);
      aptPackages.push(...integration.aptPackages);
    });
    if (requirements.size > 0) {
      files.push({
        name: REQUIREMENT_FILE_NAMES.integrations,
        content: [...requirements].sort().join('\n'),
        source: `required integrations (${settings.requiredIntegrations.join(', ')})`,
      });
    }
  }

  const pyproject = pyprojectFor(settings, baseDir, sourceRoot);
  if (pyproject) {
    const problem = fileProblem(pyproject);
    if (problem) {
      throw invalidInput(`${where}.pyproject_path: ${pyproject} ${problem}.`, {
        path: `${where}.pyproject_path`,
      });
    }
    files.push({
      name: REQUIREMENT_FILE_NAMES.pyproject,
      content: requireOutput(clientInputs, pyprojectCommands(settings, pyproject), `${where}.pyproject_path`),
      source: `pyproject export of ${pyproject}`,
    });
  }

  const auto = autoDetected(settings, sourceRoot);
  const requirements =
    settings.requirements ??
    (auto === 'requirements' ? path.join(sourceRoot, 'requirements.txt') : undefined);
  if (typeof requirements === 'string') {
    const file = path.resolve(baseDir, requirements);
    files.push({
      name: REQUIREMENT_FILE_NAMES.user,
      content: readRequirementsFile(file, `${where}.requirements`),
      source: file,
    });
  } else if (Array.isArray(requirements) && requirements.length > 0) {
    files.push({
      name: REQUIREMENT_FILE_NAMES.user,
      content: requirements.join('\n'),
      source: 'requirements list',
    });
  }

  return { files, aptPackages };
}

function readRequirementsFile(file: string, where: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw invalidInput(`${where}: requirements file ${file} ${readProblem(error)}.`, {
      path: where,
      file,
    });
  }
}

function requireOutput(inputs: ClientInputs, candidates: string[][], where: string): string {
  for (const command of candidates) {
    const output = inputs.commandOutputs[commandKey(command)];
    if (output !== undefined) return output;
  }
  throw invalidInput(
    `${where}: the plan needs the output of \`${commandKey(candidates[0] ?? [])}\`, which was not collected. Call collectClientInputs() before planBuilds().`,
    { path: where },
  );
}

/** Runs a client-side command; the default runner of collectClientInputs. */
export type CommandRunner = (command: string[], cwd: string) => Promise<string>;

export const runCommand: CommandRunner = async (command, cwd) => {
  const [file, ...args] = command;
  if (!file) throw invalidInput('Empty client-side command.');
  return runProgram(file, args, { cwd, maxBuffer: 64 * 1024 * 1024 });
};

/**
 * Runs the client-side commands the settings ask for (pip freeze, pyproject export) once each, trying
 * alternatives in order, and returns their outputs for planBuilds.
 */
export async function collectClientInputs(
  items: Array<{ settings: DockerSettings; baseDir: string; sourceRoot: string; where?: string }>,
  runner: CommandRunner = runCommand,
): Promise<ClientInputs> {
  const outputs: Record<string, string> = {};
  for (const { settings, baseDir, sourceRoot, where } of items) {
    const groups: string[][][] = [];
    const command = localEnvironmentCommand(settings);
    if (command) groups.push([command]);
    const pyproject = pyprojectFor(settings, baseDir, sourceRoot);
    if (pyproject) {
      // An export of a file that is not there would fail as "not installed" or worse; say what is wrong.
      const problem = fileProblem(pyproject);
      if (problem) {
        const field = `${where ?? 'settings.docker'}.pyproject_path`;
        throw invalidInput(`${field}: ${pyproject} ${problem}.`, { path: field });
      }
      groups.push(pyprojectCommands(settings, pyproject));
    }
    for (const candidates of groups) {
      if (candidates.some((c) => outputs[commandKey(c)] !== undefined)) continue;
      const failures: string[] = [];
      for (const command of candidates) {
        try {
          outputs[commandKey(command)] = await runner(command, baseDir);
          break;
        } catch (error) {
          const e = error as { code?: string | number; stderr?: string; message?: string };
          failures.push(
            `\`${commandKey(command)}\`: ${e.code === 'ENOENT' ? 'not installed' : (e.stderr?.trim().split('\n').pop() ?? e.message ?? String(error))}`,
          );
        }
      }
      if (failures.length === candidates.length) {
        throw notAvailable(`Unable to export local python packages: ${failures.join('; ')}.`);
      }
    }
  }
  return { commandOutputs: outputs };
}
