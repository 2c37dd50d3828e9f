/** A plain mapping (what YAML gives for `key: value` blocks), not null and not a list. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
