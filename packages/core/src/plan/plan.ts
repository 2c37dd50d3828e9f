import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BUILTIN_INTEGRATIONS, type IntegrationCatalog } from '../catalog/integrations.js';
import { directoryProblem, fileProblem, readProblem } from '../config/file-problem.js';
import { invalidInput } from '../errors.js';
import { IMAGE_BUILDER_FLAVORS } from '../flavors/table.js';
import { imageTag, targetImageName, targetRepository } from '../naming/naming.js';
import type { PipelineConfig } from '../pipeline-config/pipeline-config.js';
import { type BuildOptions, mergeBuildOptions } from '../settings/build-options.js';
import { type DockerSettings, toYamlSettings } from '../settings/docker-settings.js';
import { ARTIFACT_STORE_FLAVORS, CONTAINER_REGISTRY_FLAVORS } from '../stack/components.js';
import type { Stack } from '../stack/stack.js';
import type { Warning } from '../warnings.js';
import { canonicalJson, hashParts } from './checksum.js';
import { DOCKERFILE_NAME, renderDockerfile } from './dockerfile.js';
import { INDEX_NETRC_SECRET, IndexCredentials } from './index-credentials.js';
import { imagesPulledBy } from './pulled-images.js';
import { type ClientInputs, gatherRequirements, type RequirementFile } from './requirements.js';

/** The key ZenML's orchestrators give their images; per-step images are `<step>.orchestrator`. */
export const ORCHESTRATOR_KEY = 'orchestrator';
export const DEFAULT_ZENML_VERSION = '0.93.0';
export const DEFAULT_PYTHON_VERSION = '3.11';

export type ImageDecision =
  /** `skip_build`: the parent image is used as it is. */
  | 'skip'
  /** Nothing to add to a custom parent image: it is used as it is. */
  | 'parent'
  /** A custom Dockerfile with nothing to add: one build of it. */
  | 'dockerfile'
  /** A custom Dockerfile, then the generated Dockerfile on top of it: two builds. */
  | 'dockerfile+generated'
  /** The generated Dockerfile on the parent image: one build. */
  | 'generated';

/** How the parent image is pulled: decided here where the plan can, by the engine where it cannot. */
export type PullPolicy = 'always' | 'never' | 'if-not-local';

/** A file the build adds to its context, overriding a source file of the same path. */
export interface GeneratedFile {
  path: string;
  content: string;
}

/** What goes into a build context; the context walker turns this into the exact entry list. */
export interface ContextSpec {
  /** Directory whose files are included; absent means only the generated files. */
  root?: string;
  /** The user's Dockerfile on disk, for Docker's `<Dockerfile>.dockerignore` rule. */
  dockerfileSource?: string;
  /** An explicit dockerignore file; otherwise `<root>/.dockerignore` applies when present. */
  dockerignore?: string;
  files: GeneratedFile[];
}

/** One image build, in the order the builds must run. */
export interface PlannedBuild {
  id: string;
  /** The image key this build produces (or the parent of). */
  key: string;
  role: 'parent' | 'image';
  imageName: string;
  /** The image the Dockerfile starts from, when the plan knows it (generated Dockerfiles). */
  parentImage?: string;
  /**
   * The images the build may pull: the generated Dockerfile's parent, or a custom Dockerfile's `FROM`
   * and `COPY --from` images (`imagesPulledBy`). Their digests go into the checksum; engines give their
   * registries credentials.
   */
  pulls: string[];
  dockerfile: string;
  context: ContextSpec;
  options: BuildOptions;
  /** The settings field the options come from, for messages (`steps.train.settings.docker.build_config.build_options`). */
  optionsPath: string;
  pullPolicy: PullPolicy;
  /** Pushed to the stack's registry after the build. */
  push: boolean;
  dependsOn: string[];
  /** The Dockerfile is zenbuild's own, which may get installer cache mounts (withInstallerCacheMounts). */
  generated?: true;
}

export interface PlannedImage {
  key: string;
  step?: string;
  decision: ImageDecision;
  reason: string;
  /** Target name for built images; the parent image for `skip` and `parent`. */
  image: string;
  tag?: string;
  parentImage?: string;
  /** The Dockerfile of the final image (generated, or the user's). */
  dockerfile?: string;
  requirementFiles: RequirementFile[];
  /** All requirement files joined, as ZenML records them. */
  requirements?: string;
  aptPackages: string[];
  buildOptions: BuildOptions;
  settingsChecksum: string;
  containsCode: boolean;
  requiresCodeDownload: boolean;
  /**
   * Where this image's steps get their code, as ZenML decides it: `image` (included), `repository` (a
   * clean checkout of a declared code repository), `artifact-store` (an archive uploaded by the build),
   * or `none` when the settings allow no way (an error for `build`).
   */
  codeFrom: CodeSource;
  /** `prevent_build_reuse`: this image is always built. */
  preventBuildReuse: boolean;
  /** Key of an earlier image with the same settings checksum; this image is that one. */
  sameAs?: string;
  /** Builds that produce this image, in order. */
  builds: string[];
}

export interface BuildPlan {
  pipeline: string;
  stack: string;
  sourceRoot: string;
  /**
   * Every image key with its settings checksum. Not the build checksum that `zenbuild build` records
   * and reuses by: that one adds the context hashes and the pulled images' digests (`planChecksums`).
   */
  settingsChecksum: string;
  /** Step name → the image key it runs in. */
  steps: Record<string, string>;
  images: Record<string, PlannedImage>;
  builds: PlannedBuild[];
  warnings: Warning[];
}

export type CodeSource = 'image' | 'repository' | 'artifact-store' | 'none';

export interface PlanInput {
  pipeline: PipelineConfig;
  stack: Stack;
  /** The source root is in a clean, pushed checkout of one of the stack's code repositories. */
  codeRepositoryUsable?: boolean;
  catalog?: IntegrationCatalog;
  clientInputs?: ClientInputs;
  /** For the default parent image `zenmldocker/zenml:<zenml>-py<python>`. */
  zenmlVersion?: string;
  pythonVersion?: string;
  env?: NodeJS.ProcessEnv;
}

interface BuildConfiguration {
  key: string;
  step?: string;
  settings: DockerSettings;
  /** Equal for equal settings (see PipelineStep.settingsKey). */
  settingsKey: string;
  /** Config path of the settings, for messages. */
  where: string;
}

/**
 * Works out which images a pipeline needs on a stack, and how each is built. Pure: it reads the files
 * settings point to (requirements, a custom Dockerfile) and takes client command outputs as input, but
 * runs no engine and no command. Images with equal settings checksums are built once.
 */
export function planBuilds(input: PlanInput): BuildPlan {
  const { pipeline, stack } = input;
  const configs = buildConfigurations(pipeline);
  const warnings: Warning[] = [...pipeline.warnings];
  const images: Record<string, PlannedImage> = {};
  const builds: PlannedBuild[] = [];
  const byChecksum = new Map<string, string>();

  // Steps with equal effective settings plan to the same image: plan each distinct settings once, so
  // the work grows with the number of distinct images, not with the number of steps (ZenML #5154).
  const planned = new Map<string, ReturnType<typeof planImage>>();
  // Per first image, what every later image with its settings is: made once, copied per step.
  const sameAsFirst = new Map<string, PlannedImage>();
  for (const config of configs) {
    const imageKey = config.step ? `${config.step}.${config.key}` : config.key;
    let result = planned.get(config.settingsKey);
    if (!result) {
      result = planImage(config, input);
      planned.set(config.settingsKey, result);
    }
    const plannedImage = result;
    const first = byChecksum.get(plannedImage.image.settingsChecksum);
    if (first) {
      let same = sameAsFirst.get(first);
      if (!same) {
        const original = images[first];
        same = {
          ...plannedImage.image,
          image: original?.image ?? plannedImage.image.image,
          ...(original?.tag ? { tag: original.tag } : {}),
          sameAs: first,
          reason: `Same settings as \`${first}\`: uses that image, built once.`,
          builds: [],
        };
        sameAsFirst.set(first, same);
      }
      images[imageKey] = config.step
        ? { ...same, key: imageKey, step: config.step }
        : { ...same, key: imageKey };
      continue;
    }
    byChecksum.set(plannedImage.image.settingsChecksum, imageKey);
    images[imageKey] = { ...plannedImage.image, key: imageKey };
    builds.push(...plannedImage.builds);
  }

  refuseSharedImageNames(builds, images);

  const steps: Record<string, string> = {};
  for (const step of pipeline.steps)
    steps[step.name] = step.hasOwnSettings ? `${step.name}.${ORCHESTRATOR_KEY}` : ORCHESTRATOR_KEY;

  const settingsChecksum = hashParts(
    Object.keys(images)
      .sort()
      .map((key) => [key, images[key]?.settingsChecksum ?? ''] as [string, string]),
  );
  return {
    pipeline: pipeline.name,
    stack: stack.name,
    sourceRoot: pipeline.sourceRoot,
    settingsChecksum,
    steps,
    images,
    builds,
    warnings,
  };
}

/**
 * Two builds that produce one image name would overwrite each other: a step would run the other's image,
 * and a record could hold the other's digest. ZenML lets the last one keep the name; zenbuild refuses.
 */
function refuseSharedImageNames(builds: PlannedBuild[], images: Record<string, PlannedImage>): void {
  const byName = new Map<string, PlannedBuild>();
  for (const build of builds) {
    const other = byName.get(build.imageName);
    if (other) {
      const field = (b: PlannedBuild) =>
        images[b.key]?.step ? `steps.${images[b.key]?.step}.settings.docker` : 'settings.docker';
      throw invalidInput(
        `Images \`${other.key}\` and \`${build.key}\` would both be built as ${build.imageName}, and one would overwrite the other. Give them different \`image_tag\` or \`target_repository\` values (${field(other)}, ${field(build)}).`,
        { path: `${field(build)}.image_tag` },
      );
    }
    byName.set(build.imageName, build);
  }
}

/** ZenML's orchestrator rule: one image for the pipeline's settings, one more per step that differs. */
function buildConfigurations(pipeline: PipelineConfig): BuildConfiguration[] {
  const configs: BuildConfiguration[] = [];
  let pipelineIncluded = false;
  for (const step of pipeline.steps) {
    if (step.hasOwnSettings) {
      configs.push({
        key: ORCHESTRATOR_KEY,
        step: step.name,
        settings: step.settings,
        settingsKey: step.settingsKey,
        where: `steps.${step.name}.settings.docker`,
      });
    } else if (!pipelineIncluded) {
      configs.push({
        key: ORCHESTRATOR_KEY,
        settings: pipeline.settings,
        settingsKey: pipeline.settingsKey,
        where: 'settings.docker',
      });
      pipelineIncluded = true;
    }
  }
  if (configs.length === 0) {
    configs.push({
      key: ORCHESTRATOR_KEY,
      settings: pipeline.settings,
      settingsKey: pipeline.settingsKey,
      where: 'settings.docker',
    });
  }
  return configs;
}

/** The integrations a stack's components bring into images (ZenML: `stack.requirements()`). */
export function stackIntegrations(stack: Stack): string[] {
  const names = [
    IMAGE_BUILDER_FLAVORS[stack.imageBuilder.flavor]?.integration,
    stack.containerRegistry
      ? CONTAINER_REGISTRY_FLAVORS[stack.containerRegistry.flavor]?.integration
      : undefined,
    ARTIFACT_STORE_FLAVORS[stack.artifactStore.flavor]?.integration,
    // Every other component too, as ZenML's `Stack.requirements()` collects them all.
    ...(stack.otherComponents ?? []).map((component) => component.integration),
  ];
  return [...new Set(names.filter((n): n is string => Boolean(n)))].sort();
}

function planImage(
  config: BuildConfiguration,
  input: PlanInput,
): { image: PlannedImage; builds: PlannedBuild[] } {
  const { pipeline, stack } = input;
  const where = config.where;
  // Index credentials leave the settings here: nothing after this line (Dockerfile, checksum, plan,
  // record) sees them; the generated build gets them as a netrc secret.
  const credentials = new IndexCredentials();
  const s = withoutIndexCredentials(config.settings, credentials, where);
  const registry = stack.containerRegistry;
  const isBuildingLocally = IMAGE_BUILDER_FLAVORS[stack.imageBuilder.flavor]?.isBuildingLocally ?? true;
  const tag = imageTag({ pipeline: pipeline.name, step: config.step, key: config.key, imageTag: s.imageTag });
  const repository = targetRepository(s.targetRepository, registry?.defaultRepository);
  const target = targetImageName({ registryUri: registry?.uri, repository, tag });
  const idBase = config.step ? `${config.step}.${config.key}` : config.key;
  const settingsJson = canonicalJson({ ...toYamlSettings(s), prevent_build_reuse: undefined });

  const downloadSource = downloadSourceOf(s, Boolean(input.codeRepositoryUsable));
  const base = {
    key: idBase,
    ...(config.step ? { step: config.step } : {}),
    requirementFiles: [] as RequirementFile[],
    aptPackages: [] as string[],
    buildOptions: {} as BuildOptions,
    containsCode: false,
    requiresCodeDownload: false,
    // An image nothing is built for (skip_build) holds no code: its steps download it, if they may.
    codeFrom: (downloadSource ?? 'none') as CodeSource,
    preventBuildReuse: s.preventBuildReuse,
    builds: [] as string[],
  };

  if (s.skipBuild) {
    const parent = s.parentImage as string; // checkSettings guarantees it
    return {
      image: {
        ...base,
        decision: 'skip',
        reason: `\`skip_build\` is set: the parent image ${parent} is used as it is, nothing is built.`,
        image: parent,
        parentImage: parent,
        settingsChecksum: hashParts([['settings', settingsJson]]),
      },
      builds: [],
    };
  }

  const customDockerfile = s.dockerfile
    ? readCustomDockerfile(s.dockerfile, pipeline.baseDir, where)
    : undefined;
  const requiresCodeDownload = downloadSource !== undefined;
  const includeCode =
    Boolean(s.localProjectInstallCommand) || (!requiresCodeDownload && s.allowIncludingFilesInImages);
  const gatheredWithCredentials = gatherRequirements({
    settings: s,
    where,
    baseDir: pipeline.baseDir,
    sourceRoot: pipeline.sourceRoot,
    catalog: input.catalog ?? BUILTIN_INTEGRATIONS,
    stackIntegrations: stackIntegrations(stack),
    clientInputs: input.clientInputs ?? { commandOutputs: {} },
  });
  const gathered = {
    ...gatheredWithCredentials,
    files: gatheredWithCredentials.files.map((file) => ({
      ...file,
      content: credentials.take(file.content, `${where}.requirements (${file.name})`),
    })),
  };
  const aptPackages = [...new Set([...s.aptPackages, ...gathered.aptPackages])];
  const additions = describeAdditions(s, gathered.files, aptPackages, includeCode);
  const requirements =
    gathered.files.length > 0 ? gathered.files.map((f) => f.content).join('\n') : undefined;

  const builds: PlannedBuild[] = [];
  let parentImage = s.parentImage ?? defaultParentImage(input);
  let decision: ImageDecision;
  let reason: string;
  let finalDockerfile: string | undefined;

  if (customDockerfile) {
    const parentConfig = s.parentImageBuildConfig;
    const context: ContextSpec = {
      ...(s.buildContextRoot
        ? { root: resolveDirectory(s.buildContextRoot, pipeline.baseDir, `${where}.build_context_root`) }
        : {}),
      ...(parentConfig?.dockerignore
        ? {
            dockerignore: resolveDockerignore(
              parentConfig.dockerignore,
              pipeline.baseDir,
              `${where}.parent_image_build_config.dockerignore`,
            ),
          }
        : {}),
      files: [{ path: DOCKERFILE_NAME, content: customDockerfile.content }],
    };
    const options = parentConfig?.buildOptions ?? {};
    const customPulls = imagesPulledBy(customDockerfile.content, options.buildArgs);
    if (additions.length > 0) {
      // Remote builders need the intermediate image in a registry to build on top of it.
      const push = !isBuildingLocally && Boolean(registry);
      const intermediate = `${repository}:${tag}-intermediate-build`;
      const intermediateName = push && registry ? `${registry.uri}/${intermediate}` : intermediate;
      builds.push({
        id: `${idBase}:parent`,
        key: idBase,
        role: 'parent',
        imageName: intermediateName,
        pulls: customPulls,
        dockerfile: customDockerfile.content,
        context,
        options,
        optionsPath: `${where}.parent_image_build_config.build_options`,
        pullPolicy: pullPolicyFrom(options, isBuildingLocally ? 'if-not-local' : 'always'),
        push,
        dependsOn: [],
      });
      parentImage = intermediateName;
      decision = 'dockerfile+generated';
      reason = `Custom Dockerfile ${customDockerfile.path} is built first as ${intermediateName}, then the generated Dockerfile adds ${additions.join(', ')} on top of it.`;
    } else {
      builds.push({
        id: idBase,
        key: idBase,
        role: 'image',
        imageName: target,
        pulls: customPulls,
        dockerfile: customDockerfile.content,
        context,
        options,
        optionsPath: `${where}.parent_image_build_config.build_options`,
        pullPolicy: pullPolicyFrom(options, isBuildingLocally ? 'if-not-local' : 'always'),
        push: Boolean(registry),
        dependsOn: [],
      });
      decision = 'dockerfile';
      reason = `Custom Dockerfile ${customDockerfile.path} is built as the image; nothing needs to be added to it.`;
      finalDockerfile = customDockerfile.content;
    }
  } else if (additions.length === 0) {
    if (!s.parentImage) {
      throw invalidInput(
        `${where}: nothing to build or run: no Dockerfile or custom parent image is specified, and no files are copied or requirements installed. Set \`parent_image\`, \`dockerfile\`, or something to install.`,
        { path: where },
      );
    }
    decision = 'parent';
    reason = `Nothing to add to the parent image ${s.parentImage}: it is used as it is, nothing is built.`;
  } else {
    decision = 'generated';
    reason = `The generated Dockerfile adds ${additions.join(', ')} to ${parentImage}.`;
  }

  let buildOptions: BuildOptions = {};
  if (decision === 'generated' || decision === 'dockerfile+generated') {
    finalDockerfile = renderDockerfile({
      parentImage,
      settings: s,
      requirementFiles: gathered.files,
      aptPackages,
      includeCode,
      requiresCodeDownload,
      loggingColorsDisabled: zenmlBoolEnv((input.env ?? process.env).ZENML_LOGGING_COLORS_DISABLED),
      indexNetrc: credentials.size > 0,
    });
    refuseLongLines(finalDockerfile, (line) => fieldOfLine(line, s, where));
    buildOptions = mergeBuildOptions(s.buildConfig?.buildOptions ?? {});
    const parentBuild = builds[0];
    const defaultPull: PullPolicy =
      !s.parentImage && !customDockerfile
        ? 'never' // ZenML's default image: never pulled by the builder
        : parentBuild && !parentBuild.push
          ? 'never' // a local-only intermediate image cannot be pulled
          : isBuildingLocally
            ? 'if-not-local'
            : 'always';
    builds.push({
      id: idBase,
      key: idBase,
      role: 'image',
      imageName: target,
      parentImage,
      pulls: [parentImage],
      dockerfile: finalDockerfile,
      generated: true,
      context: {
        ...(includeCode ? { root: pipeline.sourceRoot } : {}),
        ...(s.buildConfig?.dockerignore
          ? {
              dockerignore: resolveDockerignore(
                s.buildConfig.dockerignore,
                pipeline.baseDir,
                `${where}.build_config.dockerignore`,
              ),
            }
          : {}),
        files: [
          { path: DOCKERFILE_NAME, content: finalDockerfile },
          ...gathered.files.map((f) => ({ path: f.name, content: f.content })),
        ],
      },
      options: buildOptions,
      optionsPath: `${where}.build_config.build_options`,
      pullPolicy: pullPolicyFrom(buildOptions, defaultPull),
      push: Boolean(registry),
      dependsOn: parentBuild ? [parentBuild.id] : [],
    });
    if (credentials.size > 0)
      withBuildSecrets(builds[builds.length - 1] as PlannedBuild, {
        [INDEX_NETRC_SECRET]: credentials.netrc(),
      });
  }

  const settingsChecksum = hashParts([
    ['settings', settingsJson],
    ['parent', parentImage],
    ['custom-dockerfile', customDockerfile?.content ?? ''],
    ['dockerfile', finalDockerfile ?? ''],
    ['apt', aptPackages.join('\n')],
    ...gathered.files.map((f) => [`requirements:${f.name}`, f.content] as [string, string]),
    [
      'builds',
      canonicalJson(builds.map((b) => ({ options: b.options, dockerfile: b.dockerfile, role: b.role }))),
    ],
  ]);

  const built = decision !== 'parent';
  const containsCode =
    built && includeCode && (decision === 'generated' || decision === 'dockerfile+generated');
  return {
    image: {
      ...base,
      decision,
      reason,
      image: built ? target : parentImage,
      ...(built ? { tag } : {}),
      parentImage,
      ...(finalDockerfile ? { dockerfile: finalDockerfile } : {}),
      requirementFiles: gathered.files,
      ...(requirements !== undefined ? { requirements } : {}),
      aptPackages,
      buildOptions,
      settingsChecksum,
      containsCode,
      requiresCodeDownload,
      codeFrom: containsCode ? 'image' : (downloadSource ?? 'none'),
      builds: builds.map((b) => b.id),
    },
    builds,
  };
}

/** What the generated Dockerfile would add to the parent, in words; empty means nothing. */
function describeAdditions(
  s: DockerSettings,
  files: RequirementFile[],
  apt: string[],
  includeCode: boolean,
): string[] {
  const out: string[] = [];
  if (Object.keys(s.environment).length > 0) out.push('build-time environment');
  if (apt.length > 0) out.push(`apt packages (${apt.join(', ')})`);
  if (files.length > 0) out.push(`python requirements (${files.map((f) => f.name).join(', ')})`);
  if (Object.keys(s.runtimeEnvironment).length > 0) out.push('runtime environment');
  if (includeCode) out.push('the source code');
  if (s.localProjectInstallCommand) out.push('a local project install');
  if (s.user) out.push(`user \`${s.user}\``);
  return out;
}

function pullPolicyFrom(options: BuildOptions, fallback: PullPolicy): PullPolicy {
  if (options.pull === true) return 'always';
  if (options.pull === false) return 'never';
  return fallback;
}

function defaultParentImage(input: PlanInput): string {
  const zenml = input.zenmlVersion ?? DEFAULT_ZENML_VERSION;
  const python = input.pythonVersion ?? DEFAULT_PYTHON_VERSION;
  return `zenmldocker/zenml:${zenml}-py${python}`;
}

function readCustomDockerfile(
  file: string,
  baseDir: string,
  where: string,
): { path: string; content: string } {
  const absolute = path.resolve(baseDir, file);
  const field = `${where}.dockerfile`;
  let problem = fileProblem(absolute);
  if (!problem) {
    let content: string | undefined;
    try {
      content = readFileSync(absolute, 'utf8');
    } catch (error) {
      problem = readProblem(error);
    }
    if (content !== undefined) {
      refuseLongLines(content, (_line, number) => `${absolute}:${number}`);
      return { path: absolute, content };
    }
  }
  throw invalidInput(`${field}: the Dockerfile ${absolute} ${problem}.`, { path: field });
}

/**
 * A dockerignore file named in the settings, checked while planning so that a wrong path is an error
 * naming its field before anything is built (the walker would only know the file).
 */
function resolveDockerignore(file: string, baseDir: string, field: string): string {
  const absolute = path.resolve(baseDir, file);
  const problem = fileProblem(absolute);
  if (problem) throw invalidInput(`${field}: the dockerignore file ${absolute} ${problem}.`, { path: field });
  return absolute;
}

function resolveDirectory(dir: string, baseDir: string, where: string): string {
  const absolute = path.resolve(baseDir, dir);
  const problem = directoryProblem(absolute);
  if (problem) throw invalidInput(`${where}: ${absolute} ${problem}.`, { path: where });
  return absolute;
}

/** Docker's Dockerfile parser refuses a line of 64 KiB or more (its scanner's limit); podman cuts it. */
export const MAX_DOCKERFILE_LINE = 65_535;

function refuseLongLines(dockerfile: string, where: (line: string, number: number) => string): void {
  const lines = dockerfile.split('\n');
  for (const [index, line] of lines.entries()) {
    const bytes = Buffer.byteLength(line);
    if (bytes <= MAX_DOCKERFILE_LINE) continue;
    const at = where(line, index + 1);
    throw invalidInput(
      `${at}: a Dockerfile line of ${bytes.toLocaleString('en')} bytes, more than the ${MAX_DOCKERFILE_LINE.toLocaleString('en')} Docker's parser accepts (podman would cut it short). Pass a value that large as a file in the image instead.`,
      { path: at },
    );
  }
}

/** The settings field an overlong generated line comes from: an environment value, or the settings. */
function fieldOfLine(line: string, s: DockerSettings, where: string): string {
  for (const [field, map] of [
    ['environment', s.environment],
    ['runtime_environment', s.runtimeEnvironment],
  ] as const) {
    for (const key of Object.keys(map)) {
      if (line.replace(/^(ENV )?\s*/, '').startsWith(`${key}=`)) return `${where}.${field}.${key}`;
    }
  }
  return where;
}

/**
 * ZenML's `str(handle_bool_env_var(var, False))` (src/zenml/constants.py): `True` for 1, y, yes, True and
 * true, `False` for anything else, unset included.
 */
export function zenmlBoolEnv(value: string | undefined): 'True' | 'False' {
  return value !== undefined && ['1', 'y', 'yes', 'True', 'true'].includes(value) ? 'True' : 'False';
}

/**
 * Where the steps of an image download their code (ZenML's `should_download_files`): none with a local
 * project install (its image contains the code); else a usable code repository when allowed, then the
 * artifact store when allowed. Undefined: no download, so the code is in the image when
 * `allow_including_files_in_images` allows it, and nowhere otherwise.
 */
function downloadSourceOf(
  s: DockerSettings,
  repositoryUsable: boolean,
): 'repository' | 'artifact-store' | undefined {
  if (s.localProjectInstallCommand) return undefined;
  if (repositoryUsable && s.allowDownloadFromCodeRepository) return 'repository';
  if (s.allowDownloadFromArtifactStore) return 'artifact-store';
  return undefined;
}

/**
 * The settings with the credentials of index URLs taken out: installer arguments, a requirement list,
 * and the `PIP_*` / `UV_*` variables of `environment` (ZenML writes them as `ENV` lines, in the image's
 * config for anyone who pulls it) and of the generated build's build args. The URLs stay; pip and uv
 * find the credentials in the netrc secret.
 */
function withoutIndexCredentials(
  settings: DockerSettings,
  credentials: IndexCredentials,
  where: string,
): DockerSettings {
  const cleaned = <V>(values: Record<string, V>, field: string, only?: RegExp): Record<string, V> =>
    Object.fromEntries(
      Object.entries(values).map(([key, value]) => [
        key,
        typeof value === 'string' && (!only || only.test(key))
          ? (credentials.take(value, `${where}.${field}.${key}`) as V)
          : value,
      ]),
    );
  const installer = /^(PIP|UV)_/;
  const args = cleaned(settings.pythonPackageInstallerArgs, 'python_package_installer_args');
  const environment = cleaned(settings.environment, 'environment', installer);
  const requirements = Array.isArray(settings.requirements)
    ? settings.requirements.map((line) => credentials.take(line, `${where}.requirements`))
    : settings.requirements;
  const buildOptions = settings.buildConfig?.buildOptions;
  const buildArgs = buildOptions?.buildArgs
    ? cleaned(buildOptions.buildArgs, 'build_config.build_options.buildargs', installer)
    : undefined;
  if (credentials.size === 0) return settings;
  return {
    ...settings,
    pythonPackageInstallerArgs: args,
    environment,
    ...(requirements !== undefined ? { requirements } : {}),
    ...(settings.buildConfig && buildOptions && buildArgs
      ? { buildConfig: { ...settings.buildConfig, buildOptions: { ...buildOptions, buildArgs } } }
      : {}),
  };
}

const BUILD_SECRETS = Symbol('zenbuild.buildSecrets');

/**
 * Secret values a planned build hands its builder (the index netrc), kept off the object's JSON: the plan
 * is printed and recorded, these never are.
 */
function withBuildSecrets(build: PlannedBuild, values: Record<string, string>): void {
  Object.defineProperty(build, BUILD_SECRETS, { value: values, enumerable: false });
}

/** The secret values a planned build carries for its builder (see withBuildSecrets). */
export function buildSecretsOf(build: PlannedBuild): Record<string, string> {
  return (build as PlannedBuild & { [BUILD_SECRETS]?: Record<string, string> })[BUILD_SECRETS] ?? {};
}
