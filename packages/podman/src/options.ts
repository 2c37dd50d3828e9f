import {
  type BuildOptions,
  buildOptionYamlName,
  invalidInput,
  parseImageReference,
  repositoryOf,
  sharedBuildFlags,
} from '@zenbuild/core/backend';

/**
 * Podman's `--cache-from` names a repository to look for cache images in (pushed there with
 * `--cache-to`), where Docker's names images; podman refuses a tag or digest only once the build runs.
 */
function refuseCacheImage(source: string): void {
  const parsed = parseImageReference(source);
  if (!parsed || (parsed.tag === undefined && parsed.digest === undefined)) return;
  const field = buildOptionYamlName('cacheFrom');
  throw invalidInput(
    `The podman engine takes \`${field}\` as repositories that hold cache images (podman's --cache-from), not as images: write \`${repositoryOf(source)}\` instead of \`${source}\`.`,
    { path: field },
  );
}

/**
 * The typed build options as `podman build` flags, one explicit mapping per option. `--format docker`
 * is always set: the OCI format drops HEALTHCHECK and SHELL (buildah #2388).
 */
export function toBuildFlags(options: BuildOptions): string[] {
  for (const source of options.cacheFrom ?? []) refuseCacheImage(source);
  // Docker writes the extra hosts into /etc/hosts whatever the network; podman gives a build without a
  // network no /etc/hosts at all, so the hosts would be silently missing.
  if (options.network === 'none' && Object.keys(options.extraHosts ?? {}).length > 0) {
    const field = buildOptionYamlName('extraHosts');
    throw invalidInput(
      `The podman engine cannot honour \`${field}\` with \`${buildOptionYamlName('network')}: none\`: podman gives a build without a network no /etc/hosts, so the hosts would be missing. Drop one of the two, or build with docker.`,
      { path: field },
    );
  }
  const flags = [
    '--format',
    'docker',
    ...sharedBuildFlags(options, (pull) => [`--pull=${pull ? 'always' : 'never'}`], 'env'),
  ];
  if (options.squash) flags.push('--squash');
  if (options.isolation) {
    if (!['oci', 'rootless', 'chroot'].includes(options.isolation)) {
      throw invalidInput(
        `The podman engine supports the build option \`${buildOptionYamlName('isolation')}\` only as oci, rootless or chroot (got \`${options.isolation}\`).`,
      );
    }
    flags.push('--isolation', options.isolation);
  }
  return flags;
}
