import type { Secrets } from './contracts.js';
import { quoteEnvValue } from './plan/dockerfile.js';

/**
 * Values that must never be printed: registry passwords and whatever `${VAR}` brought in under a
 * secret-looking name. Output goes through `redact` before it reaches a terminal, a log or a record.
 */
const SECRET_NAME =
  /(TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL|AUTH)/i;
const MASK = '***';

export function looksSecret(name: string): boolean {
  return SECRET_NAME.test(name);
}

export class SecretSet implements Secrets {
  readonly #values = new Set<string>();

  add(value: string | undefined): void {
    // Very short values would mask ordinary text everywhere; they are not secrets worth the name.
    if (!value || value.length < 4) return;
    // Also as it appears once escaped: inside a JSON string, and inside a Dockerfile's quoted ENV value.
    const dockerfile = quoteEnvValue(value).slice(1, -1);
    for (const form of [value, dockerfile]) {
      this.#values.add(form);
      this.#values.add(JSON.stringify(form).slice(1, -1));
    }
  }

  merge(other: Secrets): void {
    for (const value of other.values()) this.#values.add(value);
  }

  values(): Iterable<string> {
    return this.#values.values();
  }

  get size(): number {
    return this.#values.size;
  }

  /** Every string inside a value (a record about to be saved), masked; the shape is kept. */
  redactValue<T>(value: T): T {
    const walk = (item: unknown): unknown => {
      if (typeof item === 'string') return this.redact(item);
      if (Array.isArray(item)) return item.map(walk);
      if (item !== null && typeof item === 'object')
        return Object.fromEntries(Object.entries(item).map(([k, v]) => [this.redact(k), walk(v)]));
      return item;
    };
    return this.#values.size === 0 ? value : (walk(value) as T);
  }

  redact(text: string): string {
    let out = text;
    // Longest first, so a secret that contains another is masked whole.
    for (const value of [...this.#values].sort((a, b) => b.length - a.length)) {
      out = out.split(value).join(MASK);
    }
    return out;
  }
}
