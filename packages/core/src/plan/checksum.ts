import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level, so equal data always hashes the same. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

/** sha256 over labelled parts; the labels keep one part from running into the next. */
export function hashParts(parts: Array<[label: string, content: string | Uint8Array]>): string {
  const hash = createHash('sha256');
  for (const [label, content] of parts) {
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    hash.update(`${label}\0${bytes.length}\0`);
    hash.update(bytes);
  }
  return hash.digest('hex');
}
