import { createHash } from 'node:crypto';
import { invalidInput } from '../errors.js';
import { parseImageReference } from './reference.js';

export const DEFAULT_REPOSITORY = 'zenml';
const MAX_TAG_LENGTH = 128;
const HASH_LENGTH = 8;

/**
 * ZenML's tag sanitising (`sanitize_tag` in src/zenml/utils/string_utils.py): drop characters outside `[A-Za-z0-9_.-]`, replace a leading `-` or `.`
 * with `_`, refuse an empty result, cut to 128 characters.
 */
export function sanitizeTag(raw: string): string {
  let tag = dropInvalidTagCharacters(raw);
  if (tag.startsWith('-') || tag.startsWith('.')) tag = `_${tag.slice(1)}`;
  if (!tag) throw invalidInput(`Docker image tag cannot be empty (derived from \`${raw}\`).`);
  return tag.slice(0, MAX_TAG_LENGTH);
}

/**
 * `<pipeline>[-<step>]-<key>`, sanitised, unless the settings give an explicit `image_tag`. ZenML cuts
 * such a tag at 128 characters, so with a long pipeline name every image got the same tag and a step
 * could run another step's image. A tag that would be cut keeps its step and key whole and shortens the
 * pipeline part instead, with a short hash of the whole name so that distinct names stay distinct.
 */
export function imageTag(options: {
  pipeline: string;
  step?: string | undefined;
  key: string;
  imageTag?: string | undefined;
}): string {
  if (options.imageTag) return options.imageTag;
  const parts = [options.pipeline, ...(options.step ? [options.step] : []), options.key];
  const whole = parts.join('-');
  if (dropInvalidTagCharacters(whole).length <= MAX_TAG_LENGTH) return sanitizeTag(whole);
  const hash = createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, HASH_LENGTH);
  // The step and key part keeps at most half the tag, so that some of the pipeline name stays readable.
  const suffix = dropInvalidTagCharacters(parts.slice(1).join('-')).slice(-(MAX_TAG_LENGTH / 2));
  const room = MAX_TAG_LENGTH - suffix.length - HASH_LENGTH - 2;
  const pipelinePart = dropInvalidTagCharacters(options.pipeline).slice(0, room);
  return sanitizeTag(`${pipelinePart}-${hash}-${suffix}`);
}

function dropInvalidTagCharacters(raw: string): string {
  return raw.replace(/[^A-Za-z0-9_.-]/g, '');
}

/** The repository: `target_repository`, else the registry's `default_repository`, else `zenml`. */
export function targetRepository(settingsRepository?: string, registryDefault?: string): string {
  return settingsRepository ?? registryDefault ?? DEFAULT_REPOSITORY;
}

/** `<registry uri>/<repository>:<tag>`, or `<repository>:<tag>` when the stack has no registry. */
export function targetImageName(options: {
  registryUri?: string | undefined;
  repository: string;
  tag: string;
}): string {
  const uri = options.registryUri?.replace(/\/+$/, '');
  return uri ? `${uri}/${options.repository}:${options.tag}` : `${options.repository}:${options.tag}`;
}

const DOCKER_HUB_PREFIXES = ['docker.io/', 'index.docker.io/', 'registry-1.docker.io/'];

function stripDockerHub(name: string): string {
  for (const prefix of DOCKER_HUB_PREFIXES) if (name.startsWith(prefix)) return name.slice(prefix.length);
  return name;
}

/**
 * Whether an image belongs to a registry, compared by host and whole path segments: `gcr.io/proj` does
 * not own `gcr.io/project2/x` (ZenML's plain prefix test does).
 */
export function belongsToRegistry(image: string, registryUri: string): boolean {
  const imageParts = stripDockerHub(image).split('@')[0]?.split('/') ?? [];
  const registryParts = stripDockerHub(registryUri.replace(/\/+$/, '')).split('/');
  if (imageParts.length <= registryParts.length) return false;
  return registryParts.every((segment, i) => {
    const candidate = imageParts[i];
    if (candidate === undefined) return false;
    // The last image segment carries the tag; only compare the repository part of it.
    const isLast = i === imageParts.length - 1;
    return (isLast ? candidate.split(':')[0] : candidate)?.toLowerCase() === segment.toLowerCase();
  });
}

/** True for names like `python:3.11` that carry no registry host (Docker Hub). */
export function hasRegistryHost(image: string): boolean {
  return parseImageReference(image)?.domain !== undefined;
}
