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

export class SecretSet {
  readonly #values = new Set<string>();

  add(value: string | undefined): void {
    // Very short values would mask ordinary text everywhere; they are not secrets worth the name.
    if (value && value.length >= 4) this.#values.add(value);
  }

  merge(other: SecretSet): void {
    for (const value of other.#values) this.#values.add(value);
  }

  get size(): number {
    return this.#values.size;
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
