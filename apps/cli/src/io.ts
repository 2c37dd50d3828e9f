import { SecretSet } from '@zenbuild/core';

/**
 * Where the CLI writes. Everything passes through the secret mask, so a registry password or a secret
 * `${VAR}` can never reach a terminal, a log or a pipe.
 */
export class Io {
  readonly secrets = new SecretSet();

  constructor(
    private readonly stdout: NodeJS.WritableStream = process.stdout,
    private readonly stderr: NodeJS.WritableStream = process.stderr,
    readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** Results: the one JSON document of `--json`, or the human report. */
  out(text: string): void {
    this.stdout.write(this.secrets.redact(text.endsWith('\n') ? text : `${text}\n`));
  }

  /** Progress, warnings and errors. */
  err(text: string): void {
    this.stderr.write(this.secrets.redact(text.endsWith('\n') ? text : `${text}\n`));
  }

  json(value: unknown): void {
    this.out(JSON.stringify(value, null, 2));
  }
}
