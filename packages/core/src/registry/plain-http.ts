/**
 * Whether zenbuild speaks plain http to a registry host (`host` or `host:port`): loopback hosts always,
 * as Docker does by default (`localhost`, `127.0.0.0/8`, `::1`, and `127.x` written as an IPv4-mapped
 * IPv6 address), and the hosts listed in `ZENBUILD_INSECURE_REGISTRIES` (comma-separated, with port).
 */
export function isPlainHttpRegistry(host: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const listed = (env.ZENBUILD_INSECURE_REGISTRIES ?? '').split(',').map((h) => h.trim());
  if (listed.includes(host)) return true;
  const name = hostWithoutPort(host).toLowerCase();
  return (
    name === 'localhost' ||
    name === '::1' ||
    /^127\.\d+\.\d+\.\d+$/.test(name) ||
    /^::ffff:127\.\d+\.\d+\.\d+$/.test(name) ||
    // The mapped address as the URL parser writes it: ::ffff:7f00:1.
    /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(name)
  );
}

/**
 * A registry host (`host` or `host:port`) without its port, and an IPv6 address without its brackets,
 * as Go's SplitHostPort leaves it: an unbracketed address with several colons is taken whole.
 */
export function hostWithoutPort(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
  const colon = host.indexOf(':');
  return colon >= 0 && colon === host.lastIndexOf(':') ? host.slice(0, colon) : host;
}
