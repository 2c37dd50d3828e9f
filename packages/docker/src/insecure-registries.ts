import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { hostWithoutPort } from '@zenbuild/core/backend';

/** The part of the daemon's `/info` (`docker info`) that says which registries it treats as insecure. */
export interface DaemonRegistryConfig {
  InsecureRegistryCIDRs?: string[] | null;
  IndexConfigs?: Record<string, { Secure?: boolean }> | null;
}

/**
 * Whether the daemon speaks to a registry host (`host` or `host:port`) without verified TLS, as its
 * `insecure-registries` say, decided as dockerd decides it (registry's `isSecureIndex`): an index config
 * under exactly that name wins; otherwise the host is insecure when its address, or any address its
 * name resolves to, lies in one of the insecure CIDRs (127.0.0.0/8 by default).
 */
export async function daemonTreatsAsInsecure(
  config: DaemonRegistryConfig | undefined,
  host: string,
  resolve: (name: string) => Promise<string[]> = resolveAll,
): Promise<boolean> {
  const index = config?.IndexConfigs?.[host];
  if (index) return index.Secure === false;
  const cidrs = config?.InsecureRegistryCIDRs ?? [];
  if (cidrs.length === 0) return false;
  const blocks = new BlockList();
  for (const cidr of cidrs) {
    const [network, prefix] = cidr.split('/');
    const family = isIP(network ?? '');
    if (family === 0 || prefix === undefined) continue;
    blocks.addSubnet(network as string, Number(prefix), family === 6 ? 'ipv6' : 'ipv4');
  }
  const name = hostWithoutPort(host);
  const addresses = isIP(name) ? [name] : await resolve(name).catch(() => []);
  return addresses.some((address) => blocks.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4'));
}

async function resolveAll(name: string): Promise<string[]> {
  return (await lookup(name, { all: true })).map((entry) => entry.address);
}
