import path from 'node:path';
import { z } from 'zod';
import { codeRepositoriesSchema, toCodeRepository } from '../code/repositories.js';
import { issuesToError, userInputParse } from '../config/issues.js';
import { type ConfigPath, formatPath } from '../config/path.js';
import { readYamlFile } from '../config/yaml-file.js';
import type {
  ArtifactStore,
  ContainerRegistry,
  ImageBuilderComponent,
  OtherComponent,
  Stack,
  StackProblem,
} from '../contracts.js';
import { invalidInput } from '../errors.js';
import { IMAGE_BUILDER_FLAVORS } from '../flavors/table.js';
import { looksSecret, SecretSet } from '../secrets.js';
import { substituteEnv } from '../settings/substitute.js';
import { isRecord } from '../util/is-record.js';
import {
  ARTIFACT_STORE_FLAVORS,
  CONTAINER_REGISTRY_FLAVORS,
  type ContainerRegistryConfig,
  containerRegistryConfigSchema,
  localImageBuilderConfigSchema,
  OTHER_COMPONENT_FLAVORS,
} from './components.js';

export type {
  ArtifactStore,
  ContainerRegistry,
  ImageBuilderComponent,
  OtherComponent,
  Stack,
} from '../contracts.js';

const COMPONENT_TYPES = [
  'image_builder',
  'container_registry',
  'artifact_store',
  ...Object.keys(OTHER_COMPONENT_FLAVORS),
] as const;

const componentSchema = z.looseObject({
  flavor: z.string({ error: 'every component needs a `flavor`' }).min(1),
  name: z.string().min(1).optional(),
  config: z.record(z.string(), z.unknown()).optional(),
});

const stackFileSchema = z.strictObject({
  name: z.string({ error: 'the stack needs a `name`' }).min(1, 'must not be empty'),
  code_repositories: codeRepositoriesSchema.optional(),
  components: z.strictObject(
    Object.fromEntries(COMPONENT_TYPES.map((type) => [type, componentSchema.optional()])) as Record<
      string,
      z.ZodOptional<typeof componentSchema>
    >,
  ),
});

/** No stack file: the local image builder, no registry (images stay local), a local artifact store. */
export function defaultStack(): Stack {
  return {
    name: 'default',
    imageBuilder: { flavor: 'local', name: 'default', config: { use_subprocess_call: false } },
    artifactStore: { flavor: 'local', name: 'default' },
    secrets: new SecretSet(),
  };
}

export interface LoadStackOptions {
  env?: NodeJS.ProcessEnv;
}

/**
 * Loads a stack definition: structure, `${VAR}` substitution, the component configs core owns, and
 * ZenML's stack rules (`Stack.validate`, src/zenml/stack/stack.py). Problems that are errors throw (exit 2); warnings are returned.
 */
export async function loadStack(
  file: string | undefined,
  options: LoadStackOptions = {},
): Promise<{ stack: Stack; warnings: StackProblem[] }> {
  if (!file) return { stack: defaultStack(), warnings: [] };
  const absolute = path.resolve(file);
  const data = await readYamlFile(absolute, 'stack definition');
  return stackFromData(data, { ...options, file: absolute });
}

export function stackFromData(
  data: unknown,
  options: LoadStackOptions & { file?: string } = {},
): { stack: Stack; warnings: StackProblem[] } {
  const file = options.file;
  const fileField = file ? { file } : {};
  const parsed = stackFileSchema.safeParse(data, userInputParse);
  if (!parsed.success) throw issuesToError(parsed.error, { what: 'stack definition', ...fileField });

  const secrets = new SecretSet();
  const { value: raw, substitutions } = substituteEnv(parsed.data, options.env ?? process.env, [], file);
  // Anything that came from the environment into a stack is treated as sensitive when its name says so.
  for (const s of substitutions) if (looksSecret(s.variable) || looksSecret(s.path)) secrets.add(s.value);

  const components = raw.components;
  const base = (type: string): ConfigPath => ['components', type];
  const builderRaw = components.image_builder;
  const registryRaw = components.container_registry;
  const storeRaw = components.artifact_store;

  const imageBuilder: ImageBuilderComponent = builderRaw
    ? {
        flavor: builderRaw.flavor,
        name: builderRaw.name ?? builderRaw.flavor,
        config: componentConfig(builderRaw, base('image_builder'), file),
      }
    : defaultStack().imageBuilder;
  if (!IMAGE_BUILDER_FLAVORS[imageBuilder.flavor]) {
    throw unknownFlavor('image_builder', imageBuilder.flavor, Object.keys(IMAGE_BUILDER_FLAVORS), file);
  }
  if (imageBuilder.flavor === 'local') {
    const result = localImageBuilderConfigSchema.safeParse(imageBuilder.config, userInputParse);
    if (!result.success) {
      throw issuesToError(result.error, {
        what: 'stack definition',
        basePath: [...base('image_builder'), 'config'],
        ...fileField,
      });
    }
    imageBuilder.config = result.data;
  }

  const warnings: StackProblem[] = [];
  let containerRegistry: ContainerRegistry | undefined;
  if (registryRaw) {
    const flavorInfo = CONTAINER_REGISTRY_FLAVORS[registryRaw.flavor];
    if (!flavorInfo) {
      throw unknownFlavor(
        'container_registry',
        registryRaw.flavor,
        Object.keys(CONTAINER_REGISTRY_FLAVORS),
        file,
      );
    }
    const config = componentConfig(registryRaw, base('container_registry'), file);
    const result = containerRegistryConfigSchema.safeParse(config);
    if (!result.success) {
      throw issuesToError(result.error, {
        what: 'stack definition',
        basePath: [...base('container_registry'), 'config'],
        ...fileField,
      });
    }
    containerRegistry = toRegistry(registryRaw.flavor, registryRaw.name, result.data);
    if (containerRegistry.credentials) secrets.add(containerRegistry.credentials.password);
    if (flavorInfo.uriPattern && !flavorInfo.uriPattern.test(containerRegistry.uri)) {
      warnings.push({
        path: 'components.container_registry.uri',
        severity: 'warning',
        message: `\`${containerRegistry.uri}\` does not look like a ${registryRaw.flavor} registry (expected something like ${flavorInfo.uriExample}).`,
      });
    }
  }

  let artifactStore: ArtifactStore = defaultStack().artifactStore;
  if (storeRaw) {
    const flavorInfo = ARTIFACT_STORE_FLAVORS[storeRaw.flavor];
    if (!flavorInfo) {
      throw unknownFlavor('artifact_store', storeRaw.flavor, Object.keys(ARTIFACT_STORE_FLAVORS), file);
    }
    const config = componentConfig(storeRaw, base('artifact_store'), file);
    const result = flavorInfo.schema.safeParse(config);
    if (!result.success) {
      throw issuesToError(result.error, {
        what: 'stack definition',
        basePath: [...base('artifact_store'), 'config'],
        ...fileField,
      });
    }
    artifactStore = {
      flavor: storeRaw.flavor,
      name: storeRaw.name ?? storeRaw.flavor,
      ...(result.data.path ? { path: result.data.path } : {}),
    };
  }

  const otherComponents: OtherComponent[] = [];
  for (const [type, flavors] of Object.entries(OTHER_COMPONENT_FLAVORS)) {
    const component = (components as Record<string, z.output<typeof componentSchema> | undefined>)[type];
    if (!component) continue;
    if (!(component.flavor in flavors))
      throw unknownFlavor(type, component.flavor, Object.keys(flavors), file);
    const integration = flavors[component.flavor];
    otherComponents.push({
      type,
      flavor: component.flavor,
      name: component.name ?? component.flavor,
      ...(integration ? { integration } : {}),
    });
  }

  const stack: Stack = {
    name: raw.name,
    ...fileField,
    imageBuilder,
    ...(containerRegistry ? { containerRegistry } : {}),
    artifactStore,
    ...(otherComponents.length > 0 ? { otherComponents } : {}),
    ...(raw.code_repositories?.length
      ? { codeRepositories: raw.code_repositories.map(toCodeRepository) }
      : {}),
    secrets,
  };
  const problems = [...warnings, ...stackRuleProblems(stack)];
  const errors = problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) throw stackProblemsError(errors, file);
  return { stack, warnings: problems.filter((p) => p.severity === 'warning') };
}

/**
 * ZenML's stack rules (`Stack.validate`, src/zenml/stack/stack.py), checked before anything runs: remote builders need a registry to push to
 * and an artifact store of their cloud to upload the build context to.
 */
export function stackRuleProblems(stack: Stack): StackProblem[] {
  const problems: StackProblem[] = [];
  const builder = stack.imageBuilder.flavor;
  const registry = stack.containerRegistry;
  const store = stack.artifactStore;
  const error = (p: string, message: string) => problems.push({ path: p, message, severity: 'error' });

  if (builder === 'aws') {
    if (!registry) {
      error(
        'components.container_registry',
        'The aws image builder requires a container registry to push the image to; add a `container_registry` (an ECR registry: flavor `aws`).',
      );
    }
    if (store.flavor !== 's3') {
      error(
        'components.artifact_store.flavor',
        `The aws image builder requires an S3 artifact store to upload the build context to (found flavor \`${store.flavor}\`); add an \`artifact_store\` with flavor \`s3\` and a \`path: s3://bucket/prefix\`.`,
      );
    }
  }
  if (builder === 'gcp') {
    if (!registry) {
      error(
        'components.container_registry',
        'The gcp image builder requires a container registry of flavor `gcp` (Artifact Registry or GCR) to push the image to.',
      );
    } else if (registry.flavor !== 'gcp') {
      error(
        'components.container_registry.flavor',
        `The gcp image builder requires a container registry of flavor \`gcp\` (found \`${registry.flavor}\`): Cloud Build pushes with its own service account.`,
      );
    }
    if (store.flavor !== 'gcs') {
      error(
        'components.artifact_store.flavor',
        `The gcp image builder requires a GCS artifact store to upload the build context to (found flavor \`${store.flavor}\`); add an \`artifact_store\` with flavor \`gcs\` and a \`path: gs://bucket/prefix\`.`,
      );
    }
  }
  return problems;
}

export function stackProblemsError(problems: StackProblem[], file?: string) {
  const lines = problems.map((p) => `${p.path}: ${p.message}`);
  const where = file ? ` ${file}` : '';
  const message =
    lines.length === 1
      ? `Invalid stack${where}: ${lines[0]}`
      : `Invalid stack${where}:\n${lines.map((l) => `  - ${l}`).join('\n')}`;
  return invalidInput(message, {
    problems: lines,
    ...(problems[0] ? { path: problems[0].path } : {}),
    ...(file ? { file } : {}),
  });
}

/** A component's config: its `config` map, plus the shorthand of giving config keys next to `flavor`. */
function componentConfig(
  component: z.output<typeof componentSchema>,
  basePath: ConfigPath,
  file: string | undefined,
): Record<string, unknown> {
  const { flavor: _flavor, name: _name, config, ...shorthand } = component;
  const out: Record<string, unknown> = { ...(config ?? {}) };
  for (const [key, value] of Object.entries(shorthand)) {
    if (key in out) {
      const p = formatPath([...basePath, key]);
      throw invalidInput(
        `${p}: \`${key}\` is given both next to \`flavor\` and under \`config\`; give it once.`,
        {
          path: p,
          ...(file ? { file } : {}),
        },
      );
    }
    out[key] = value;
  }
  return isRecord(out) ? out : {};
}

function toRegistry(
  flavor: string,
  name: string | undefined,
  config: ContainerRegistryConfig,
): ContainerRegistry {
  return {
    flavor,
    name: name ?? flavor,
    uri: config.uri,
    ...(config.default_repository ? { defaultRepository: config.default_repository } : {}),
    ...(config.credentials ? { credentials: config.credentials } : {}),
  };
}

function unknownFlavor(type: string, flavor: string, known: string[], file?: string) {
  const p = `components.${type}.flavor`;
  return invalidInput(
    `${p}: unknown ${type.replace('_', ' ')} flavor \`${flavor}\`. Known flavors: ${known.join(', ')}.`,
    {
      path: p,
      ...(file ? { file } : {}),
    },
  );
}

/** The stack as it can be shown: everything but secrets. */
export function describeStack(stack: Stack): Record<string, unknown> {
  return {
    name: stack.name,
    ...(stack.file ? { file: stack.file } : {}),
    image_builder: {
      flavor: stack.imageBuilder.flavor,
      name: stack.imageBuilder.name,
      config: stack.imageBuilder.config,
    },
    container_registry: stack.containerRegistry
      ? {
          flavor: stack.containerRegistry.flavor,
          name: stack.containerRegistry.name,
          uri: stack.containerRegistry.uri,
          ...(stack.containerRegistry.defaultRepository
            ? { default_repository: stack.containerRegistry.defaultRepository }
            : {}),
          ...(stack.containerRegistry.credentials
            ? { credentials: { username: stack.containerRegistry.credentials.username, password: '***' } }
            : {}),
        }
      : null,
    artifact_store: {
      flavor: stack.artifactStore.flavor,
      name: stack.artifactStore.name,
      ...(stack.artifactStore.path ? { path: stack.artifactStore.path } : {}),
    },
    ...Object.fromEntries(
      (stack.otherComponents ?? []).map((c) => [
        c.type,
        { flavor: c.flavor, name: c.name, integration: c.integration ?? null },
      ]),
    ),
    ...(stack.codeRepositories?.length
      ? { code_repositories: stack.codeRepositories.map((r) => ({ name: r.name, type: r.type, url: r.url })) }
      : {}),
  };
}
