// The contract between core and its backends: types only, importing nothing from core, so that every
// module may depend on it and it depends on none (no cycle runs through it).
import type { z } from 'zod';

/** Values (registry passwords, secret `${VAR}`s) that must never be printed. */
export interface Secrets {
  /** Remembers a value to mask; very short values are not worth the name and are ignored. */
  add(value: string | undefined): void;
  /** Masks every remembered value in a text. */
  redact(text: string): string;
  /** Every string inside a value (a record about to be saved), masked; the shape is kept. */
  redactValue<T>(value: T): T;
  /** The remembered values, for merging one set into another. */
  values(): Iterable<string>;
  readonly size: number;
}

export interface ContainerRegistry {
  flavor: string;
  name: string;
  uri: string;
  defaultRepository?: string;
  credentials?: { username: string; password: string };
}

export interface ArtifactStore {
  flavor: string;
  name: string;
  path?: string;
}

export interface ImageBuilderComponent {
  flavor: string;
  name: string;
  /** The flavor's config as written (snake_case keys); validated by the flavor's own schema. */
  config: Record<string, unknown>;
}

/** A component that does not build images but brings requirements (an orchestrator, a tracker). */
export interface OtherComponent {
  type: string;
  flavor: string;
  name: string;
  /** The integration whose requirements it adds, when it has one. */
  integration?: string;
}

/** A code repository a stack declares (ZenML's code repositories): where images get their code from. */
export interface CodeRepository {
  type: 'github' | 'gitlab' | 'bitbucket' | 'git';
  name: string;
  /** The remote URL it stands for, `https://host/owner/repository` for the hosted types. */
  url: string;
}

export interface Stack {
  name: string;
  /** The file the stack came from; absent for the default stack. */
  file?: string;
  imageBuilder: ImageBuilderComponent;
  containerRegistry?: ContainerRegistry;
  artifactStore: ArtifactStore;
  /** The other components (orchestrator, step operator, experiment tracker, ...), in the file's order. */
  otherComponents?: OtherComponent[];
  /** The code repositories declared for the team: a clean checkout of one gives images their code. */
  codeRepositories?: CodeRepository[];
  secrets: Secrets;
}

/**
 * One typed model of image build options. Each backend maps it explicitly (API params, CLI flags,
 * buildspec, Cloud Build args) and rejects what it cannot honour.
 */
export interface BuildOptions {
  buildArgs?: Record<string, string>;
  target?: string;
  platform?: string;
  labels?: Record<string, string>;
  noCache?: boolean;
  pull?: boolean;
  rm?: boolean;
  forceRm?: boolean;
  network?: string;
  cacheFrom?: string[];
  shmSize?: number;
  extraHosts?: Record<string, string>;
  squash?: boolean;
  isolation?: string;
  /**
   * BuildKit secrets a custom Dockerfile mounts (`RUN --mount=type=secret,id=ID`), by id: the value of
   * an environment variable of the caller, or a file. Only the reference is part of the settings; the
   * value reaches the builder alone.
   */
  secrets?: Record<string, BuildSecretSource>;
}

/**
 * Where a build secret's value comes from: a variable of the caller's environment or a file (the
 * `secrets` build option, for a local build), a secret store a cloud builder reads during the build (AWS
 * Secrets Manager or Parameter Store for CodeBuild, Secret Manager for Cloud Build), or a value zenbuild
 * made itself for the build (the index netrc), never written into a plan or record.
 */
export type BuildSecretSource =
  | { env: string }
  | { file: string }
  | { value: string }
  | { awsSecretsManager: string }
  | { awsParameterStore: string }
  | { gcpSecretManager: string };

/** Hears how many bytes are done, and once more with `done` at the end. */
export type ByteProgressListener = (bytes: number, done: boolean) => void;

export interface WriteContextOptions {
  signal?: AbortSignal;
  /**
   * Hears how many bytes of file content are written, at most every 250 ms (at the loop's yields, every
   * 32 MiB), and once more with `done` when all are: 1–5 s for a 500 MB context.
   */
  onWritten?: ByteProgressListener;
}

/** Memory lent for file chunks and given back by the consumer once nothing reads them (ChunkPool). */
export interface ChunkLender {
  /** `size` bytes that no one else holds. */
  take(size: number): Buffer;
  /** Gives back a chunk from `take`. */
  release(chunk: Uint8Array): void;
}

/** Is a backend usable right now, and if not, why and how to fix it. */
export interface Availability {
  available: boolean;
  /** What was checked and what was found, in a sentence. */
  reason: string;
  /** What the user can do about it, when it is not available. */
  hint?: string;
}

/** A problem with a stack found before anything runs. */
export interface StackProblem {
  /** Config path inside the stack file, e.g. `components.artifact_store.flavor`. */
  path: string;
  message: string;
  severity: 'error' | 'warning';
}

/** Events a backend emits while it works; it never prints. The CLI decides how to render them. */
export type BuildEvent =
  | { type: 'phase'; image: string; phase: string; detail?: string }
  | { type: 'log'; image: string; stream: 'stdout' | 'stderr'; line: string }
  /**
   * How far a long step is (a context upload: bytes sent); `total` when known, `current === total` at the
   * end. `verb` says what happens to the units (`sent`, `written`, `uploaded`).
   */
  | { type: 'progress'; image: string; current: number; total?: number; unit?: string; verb?: string }
  | { type: 'warning'; image?: string; message: string };

export interface RunContext {
  signal: AbortSignal;
  emit(event: BuildEvent): void;
}

/** The files of a build context as core decided them; every backend consumes this same list. */
export interface BuildContextSource {
  /** Content hash over exactly the archived entries. */
  readonly hash: string;
  /** Bytes of file content (the archive adds headers), the total for progress. */
  readonly size: number;
  /**
   * A fresh tar stream of the context (uncompressed). With a pool, file chunks are read into its memory:
   * only for a consumer that releases each chunk to the pool once nothing reads it any more.
   */
  tar(options?: { pool?: ChunkLender }): NodeJS.ReadableStream;
  /**
   * A fresh, deterministic archive of the same entries in the format a remote service takes (zip for
   * CodeBuild, tar.gz for Cloud Build): the same tree always gives the same bytes.
   */
  archive(format: 'tar' | 'tar.gz' | 'zip'): NodeJS.ReadableStream;
  /**
   * Writes the same entries as files into an existing empty directory, as unpacking `tar()` would, for
   * engines that build from a directory. A failure (a file changed after planning, the signal) may leave
   * a partial copy, which the caller removes.
   */
  writeTo(dir: string, options?: WriteContextOptions): Promise<void>;
  /**
   * The same entries one by one, in the order a BuildKit session sends a directory (depth first, names
   * in byte order, every directory before what it holds), for a file-by-file transfer that sends only
   * what the builder does not have yet.
   */
  files(): ContextFile[];
}

/** One entry of a build context, for a file-by-file transfer (BuildKit's FileSync). */
export interface ContextFile {
  /** POSIX path relative to the context root. */
  path: string;
  type: 'file' | 'directory' | 'symlink';
  /** The archive's normalised mode: 0755 for directories and executables, 0644 for files, 0777 for links. */
  mode: number;
  size: number;
  linkTarget?: string;
  /** Changes whenever the content does (sha256 hex of a file's bytes). */
  digest: string;
  /** The bytes, in chunks; fails if the file changed since it was planned. */
  read(): AsyncIterable<Buffer>;
}

export interface BuildRequest {
  /** Full target name, `registry/repository:tag` or `repository:tag`. */
  imageName: string;
  context: BuildContextSource;
  /** The Dockerfile's path inside the context. */
  dockerfile: string;
  options: BuildOptions;
  /** When given, the image is pushed there and identified by digest. */
  registry?: ContainerRegistry;
  /** The image the Dockerfile starts from, when known, and how to pull it (see the plan). */
  parentImage?: string;
  pullPolicy?: 'always' | 'never' | 'if-not-local';
  /**
   * Every image the build may pull: the generated Dockerfile's parent, or a custom Dockerfile's `FROM`
   * and `COPY --from` images (`imagesPulledBy`). An engine gives their registries the credentials it
   * knows for them and, where all are plain-http registries, pulls over http. Default: the parent.
   */
  pulls?: string[];
}

export interface BuiltImage {
  /** `repository@sha256:...` when pushed; the local name otherwise. */
  image: string;
  digest?: string;
  tag: string;
  logsUrl?: string;
  remoteBuildId?: string;
}

/** One contract for every image builder flavor (local, aws, gcp, ...). */
/** What decides whether a build takes `RUN --mount`: its options, and the images it pulls. */
export type RunMountsRequest = Pick<BuildRequest, 'options' | 'pulls' | 'parentImage'>;

export interface ImageBuilder {
  readonly flavor: string;
  readonly isBuildingLocally: boolean;
  validateStack(stack: Stack): StackProblem[];
  /**
   * Throws INVALID_INPUT for a build option this builder cannot honour. Called for every build of a
   * plan before the first one starts, so that a pipeline is not half built when its last image is
   * refused; `build` refuses the same options again.
   */
  validateOptions?(options: BuildOptions): void;
  /**
   * Whether a build with these options runs on a builder that takes `RUN --mount` (BuildKit, buildah),
   * so that the generated Dockerfile may mount installer caches. Absent: it does not.
   */
  takesRunMounts?(request: RunMountsRequest): Promise<boolean>;
  /**
   * A build is coming: load what building needs (client libraries) in the background, while the
   * contexts are still being hashed. Never called for a run that may end in a reuse hit.
   */
  warmUp?(): void;
  check(): Promise<Availability>;
  build(request: BuildRequest, run: RunContext): Promise<BuiltImage>;
}

/** What an image builder package exports: its name, the schema of its config, and a factory. */
export interface ImageBuilderFlavor<Config = unknown> {
  readonly name: string;
  readonly isBuildingLocally: boolean;
  readonly configSchema: z.ZodType<Config>;
  /** Extra stack rules of this flavor, on top of the ones core knows. */
  validateStack?(stack: Stack): StackProblem[];
  create(config: Config, stack: Stack): ImageBuilder | Promise<ImageBuilder>;
}

export type ContainerEngineName = 'docker' | 'podman';

/** A local container engine, driven by the engine-agnostic local image builder. */
export interface ContainerEngine {
  readonly name: ContainerEngineName;
  check(): Promise<Availability>;
  /** Throws INVALID_INPUT for a build option this engine cannot honour (see ImageBuilder). */
  validateOptions?(options: BuildOptions): void;
  /** Whether this build takes `RUN --mount` (see ImageBuilder). */
  takesRunMounts?(request: RunMountsRequest): Promise<boolean>;
  /** See ImageBuilder. */
  warmUp?(): void;
  build(request: BuildRequest, run: RunContext): Promise<{ imageId: string }>;
  tag(source: string, target: string): Promise<void>;
  /** Pushes and returns the manifest digest the registry stored (`sha256:...`). */
  push(image: string, registry: ContainerRegistry | undefined, run: RunContext): Promise<string>;
  imageExists(image: string): Promise<boolean>;
  /** A local image's id and registry digests (none for an image only built here), or undefined. */
  localImage(image: string): Promise<{ id: string; repoDigests: string[] } | undefined>;
  login(registry: ContainerRegistry): Promise<void>;
  /**
   * Whether the engine's own configuration lets it speak to a registry host (`host[:port]`) without
   * verified TLS: docker's `insecure-registries`, podman's registries.conf `insecure = true`. zenbuild's
   * registry client asks when https to a host fails, and then speaks to it as the engine would.
   */
  insecureRegistry?(host: string): Promise<boolean>;
  /**
   * The engine can pull a parent only when its registry has a newer one, keeping its local copy
   * otherwise (podman's `--pull=newer`), and does so for the `if-not-local` policy when a request leaves
   * `pull` unset. The local builder leaves it unset for a parent whose repo digests name it: for an
   * engine that lists a digest for every name, pushed or not (podman), that does not prove a pull.
   */
  readonly pullsIfNewer?: boolean;
}

/** What an engine package exports. */
export interface ContainerEngineFlavor<Options = unknown> {
  readonly name: ContainerEngineName;
  /**
   * The engine's config as the stack gives it (the local image builder's `use_subprocess_call` becomes
   * `subprocess`); core validates it before `create`, which also gets the caller's `env`.
   */
  readonly configSchema?: z.ZodType;
  create(options?: Options): ContainerEngine;
}

/** One image of a pipeline build, the fields docs/context-and-reuse.md describes. */
export interface BuildRecordImage {
  /** `repository@sha256:...` when pushed, the local name otherwise, or the parent image used as it is. */
  image: string;
  digest: string | null;
  tag: string | null;
  dockerfile: string | null;
  requirements: string | null;
  settingsChecksum: string;
  containsCode: boolean;
  /** The build context hash of each build behind this image. */
  contextHashes?: Record<string, string>;
  /** The parent image's digest the checksum covered, when it was resolved. */
  parentDigest?: string | null;
  durationMs?: number;
}

/** Who made a build and where: the machine, the user, and the CI run when there was one. */
export interface RecordOrigin {
  host: string;
  user: string;
  /** `github-actions`, `gitlab-ci`, `codebuild`, `cloud-build`, with that system's run id. */
  ci?: { provider: string; runId: string; url?: string };
}

export interface PipelineBuildRecord {
  /** The record format; a zenbuild skips records of a newer format than it reads. Absent: 1. */
  schemaVersion?: number;
  id: string;
  pipeline: string;
  stack: string;
  /** The stack's registry URI; reuse only matches builds pushed to the same registry. */
  registry: string | null;
  checksum: string;
  /** True when an existing build was used and nothing was built. */
  reused: boolean;
  createdAt: string;
  durationMs: number;
  containsCode: boolean;
  images: Record<string, BuildRecordImage>;
  zenbuildVersion: string;
  createdBy?: RecordOrigin;
  /** Where the images' code comes from at run time, when they do not contain it. */
  code?: CodeLocation;
}

/**
 * Where a run gets its code: a commit of a declared repository (and the source root's folder in it), or
 * an archive in the artifact store.
 */
export type CodeLocation =
  | { repository: string; url: string; commit: string; subdirectory: string }
  | { path: string };

/** What reuse looks a build up by: the same pipeline on the same stack with the same checksum. */
export interface BuildQuery {
  pipeline: string;
  stack: string;
  checksum: string;
}

/** An entry in a store that is not a record zenbuild can read, and why. */
export interface StoreProblem {
  file: string;
  message: string;
  /** `newer`: a record a newer zenbuild wrote, readable by it, not damaged. Default: damaged. */
  kind?: 'damaged' | 'newer';
}

/**
 * Where pipeline-build records are kept: a directory under `$ZENBUILD_HOME`, or the stack's artifact
 * store, which a team shares. A record is saved whole or not at all, and never overwritten.
 */
export interface BuildStore {
  /** Where the records are, for messages: a directory, `s3://bucket/prefix/zenbuild`. */
  readonly location: string;
  /** Makes sure a record can be saved, before anything is built. */
  prepare(): Promise<void>;
  save(record: PipelineBuildRecord): Promise<void>;
  /** The records of a query, newest first: the reuse lookup, a bounded number of requests. */
  find(query: BuildQuery): Promise<PipelineBuildRecord[]>;
  /** Every record, newest first, optionally of one pipeline. */
  list(filter?: { pipeline?: string }): Promise<PipelineBuildRecord[]>;
  /** A record by id or by a prefix of one id; a prefix of two ids is an INVALID_INPUT error. */
  get(idOrPrefix: string): Promise<PipelineBuildRecord | undefined>;
  /** Removes a record (never an image). */
  delete(id: string): Promise<void>;
}

/** A bucket-like place (S3, GCS, a shared directory) under one prefix: what an object build store needs. */
export interface ObjectStorage {
  /** `s3://bucket/prefix`, `gs://bucket/prefix`, a directory. */
  readonly location: string;
  /** An object's bytes; undefined when there is none. */
  read(key: string): Promise<Buffer | undefined>;
  /**
   * Creates an object only if none has the key (S3's `If-None-Match: *`, GCS's `ifGenerationMatch=0`):
   * false when one does. Readers never see a half-written object.
   */
  create(key: string, body: Buffer): Promise<boolean>;
  /** Every key under a prefix, through all pages. */
  list(prefix: string): Promise<string[]>;
  remove(key: string): Promise<void>;
}

/** What a package that knows an artifact store flavor exports: the storage under a store's path. */
export interface ArtifactStoreFlavor {
  readonly name: string;
  objects(path: string, options: { stack: Stack; env: NodeJS.ProcessEnv }): ObjectStorage;
}
