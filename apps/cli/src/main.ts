import { ZENBUILD_VERSION } from '@zenbuild/core';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { buildCommand } from './commands/build.js';
import {
  buildsCheckCommand,
  buildsListCommand,
  buildsPruneCommand,
  buildsShowCommand,
  buildsSyncCommand,
  parseDuration,
} from './commands/builds.js';
import { contextCommand } from './commands/context.js';
import { engineCommand } from './commands/engine.js';
import { planCommand } from './commands/plan.js';
import { stackValidateCommand } from './commands/stack.js';
import { reportError } from './errors.js';
import { Io } from './io.js';
import { PROGRESS_MODES } from './progress.js';

export const VERSION = ZENBUILD_VERSION;

function storeOption(): Option {
  return new Option(
    '--store <where>',
    "where build records are: `stack` (the stack's artifact store, shared) or `local` ($ZENBUILD_HOME); also $ZENBUILD_STORE",
  ).choices(['local', 'stack']);
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of at least 1');
  return n;
}
const USAGE_EXIT_CODE = 2;

/**
 * Runs the CLI and returns the exit code: 0 success, 1 build failed, 2 invalid input, 3 not available,
 * 130 cancelled (143 when by SIGTERM). Never calls process.exit itself, so tests can run it in-process.
 */
export async function main(argv: string[], io: Io = new Io()): Promise<number> {
  let exitCode = 0;
  let json = false;
  const run =
    <A extends unknown[]>(command: (...args: A) => Promise<number>) =>
    async (...args: A) => {
      exitCode = await command(...args);
    };

  const program = new Command('zenbuild')
    .description('Build the container images ML pipelines run in (ZenML-compatible settings).')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .hook('preAction', (_program, action) => {
      json = Boolean(action.opts().json);
    });

  const jsonOption = () => new Option('--json', 'print one JSON document on stdout');

  program
    .command('plan')
    .description('show which images a pipeline needs, how each is built and why (no engine needed)')
    .argument('<pipeline>', 'pipeline config file (YAML)')
    .option('--stack <file>', 'stack definition (default: the default stack)')
    .option(
      '--name <name>',
      "the pipeline's name, for a ZenML config that has none (ZenML takes it from code)",
    )
    .option('--integrations <file>', 'extra integrations catalog (YAML); also $ZENBUILD_INTEGRATIONS')
    .addOption(jsonOption())
    .action(run((pipeline: string, options) => planCommand(io, pipeline, options)));

  program
    .command('build')
    .description('build every image the pipeline needs (or reuse an earlier build), push, and record it')
    .argument('<pipeline>', 'pipeline config file (YAML)')
    .option('--stack <file>', 'stack definition (default: the default stack)')
    .option(
      '--name <name>',
      "the pipeline's name, for a ZenML config that has none (ZenML takes it from code)",
    )
    .option('--integrations <file>', 'extra integrations catalog (YAML); also $ZENBUILD_INTEGRATIONS')
    .addOption(
      new Option('--progress <mode>', 'how to show progress on stderr')
        .choices([...PROGRESS_MODES])
        .default('auto'),
    )
    .option('--no-reuse', 'build even when an earlier build matches')
    .option(
      '--no-installer-cache',
      'no BuildKit cache mounts for pip, uv and apt in generated Dockerfiles (also ZENBUILD_INSTALLER_CACHE=0)',
    )
    .option('--build <id>', 'use this recorded build instead of building (warns when it does not match)')
    .addOption(new Option('--concurrency <n>', 'builds at once').argParser(positiveInt).default(2))
    .addOption(storeOption())
    .addOption(jsonOption())
    .action(run((pipeline: string, options) => buildCommand(io, pipeline, options)));

  const stack = program.command('stack').description('stack definitions');
  stack
    .command('validate')
    .description('check a stack definition before anything runs (default: the default stack)')
    .argument('[file]', 'stack definition (YAML)')
    .addOption(jsonOption())
    .action(run((file: string | undefined, options) => stackValidateCommand(io, file, options)));

  program
    .command('engine')
    .description('show which local container engine would be used and why ($ZENML_CONTAINER_ENGINE pins one)')
    .addOption(jsonOption())
    .action(run((options) => engineCommand(io, options)));

  program
    .command('context')
    .description('list what goes into a build context from DIR: files, total size, content hash, exclusions')
    .argument('<dir>', 'the context root')
    .option('--dockerignore <file>', 'a dockerignore file to use instead of DIR/.dockerignore')
    .addOption(jsonOption())
    .action(run((dir: string, options) => contextCommand(io, dir, options)));

  const builds = program
    .command('builds')
    .description("recorded pipeline builds: the stack's artifact store (s3, gcs), else $ZENBUILD_HOME");
  builds
    .command('list')
    .description('list pipeline builds, newest first')
    .option('--pipeline <name>', 'only builds of this pipeline')
    .option('--stack <file>', 'read the build store of this stack')
    .addOption(storeOption())
    .addOption(jsonOption())
    .action(run((options) => buildsListCommand(io, options)));
  builds
    .command('show')
    .description('show one pipeline build')
    .argument('<id>', 'build id, or a prefix of one, as `builds list` shows it')
    .option('--stack <file>', 'read the build store of this stack')
    .addOption(storeOption())
    .addOption(jsonOption())
    .action(run((id: string, options) => buildsShowCommand(io, id, options)));
  builds
    .command('check')
    .description('list records that cannot be read (exit 1 when there are any); --fix moves them aside')
    .option('--fix', 'move damaged records to $ZENBUILD_HOME/damaged/')
    .addOption(jsonOption())
    .action(run((options) => buildsCheckCommand(io, options)));
  builds
    .command('sync')
    .description(
      "upload the builds kept on this machine because the stack's shared store could not take them",
    )
    .requiredOption('--stack <file>', 'the stack whose artifact store shares the builds')
    .addOption(jsonOption())
    .action(run((options) => buildsSyncCommand(io, options)));
  builds
    .command('prune')
    .description('delete old build records (never images); lists them, and deletes only with --yes')
    .addOption(
      new Option('--older-than <duration>', 'records older than this: 30d, 12h, 2w, 90m').argParser(
        parseDuration,
      ),
    )
    .addOption(new Option('--keep <n>', 'keep the newest N records of each pipeline').argParser(positiveInt))
    .option('--pipeline <name>', 'only records of this pipeline')
    .option('--stack <file>', 'prune the build store of this stack')
    .addOption(storeOption())
    .option('--yes', 'delete (without it, only list what would be deleted)')
    .addOption(jsonOption())
    .action(run((options) => buildsPruneCommand(io, options)));

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      if (error.exitCode === 0) return 0;
      // Commander has printed the message; a --json caller still gets its one document on stdout.
      if (argv.includes('--json')) {
        io.json({
          error: {
            code: 'INVALID_INPUT',
            message: error.message.replace(/^error: /, ''),
            details: { usage: error.code },
          },
        });
      }
      return USAGE_EXIT_CODE;
    }
    return reportError(io, error, json);
  }
}
