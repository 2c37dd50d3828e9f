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
    // Text is hashed as its UTF-8 bytes without copying it into a buffer first (2,000 parts per plan).
    const length = typeof content === 'string' ? Buffer.byteLength(content, 'utf8') : content.length;
    hash.update(`${label}\0${length}\0`);
    hash.update(content);
  }
  return hash.digest('hex');
}
