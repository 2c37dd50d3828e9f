import { isRecord } from '@zenbuild/core/backend';

/** One `[[registry]]` of registries.conf as `podman info` reports it, keyed by its prefix. */
export interface PodmanRegistryEntry {
  Prefix?: string;
  Insecure?: boolean;
}

/**
 * Whether podman's registries.conf marks a registry host (`host` or `host:port`) `insecure = true`: the
 * entry whose prefix is the host itself, else the longest `*.domain` wildcard that matches its name, as
 * containers/image picks one for an image on that host. Entries for a path under a host (`host/team`)
 * cover only some of its images and are not counted.
 */
export function podmanTreatsAsInsecure(
  registries: Record<string, unknown> | undefined,
  host: string,
): boolean {
  const entries = Object.values(registries ?? {}).filter(isRecord) as PodmanRegistryEntry[];
  const exact = entries.find((entry) => entry.Prefix === host);
  if (exact) return exact.Insecure === true;
  const wildcards = entries
    .filter((entry) => entry.Prefix?.startsWith('*.') && host.endsWith(entry.Prefix.slice(1)))
    .sort((a, b) => (b.Prefix?.length ?? 0) - (a.Prefix?.length ?? 0));
  return wildcards[0]?.Insecure === true;
}
