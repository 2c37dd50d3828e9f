/**
 * One error class for everything zenbuild reports to a user. The `code` decides the CLI exit code;
 * the message says what happened and what to do about it.
 */
export const ERROR_CODES = {
  /** Bad user input: usage, config files, settings, stack definitions. */
  INVALID_INPUT: 'INVALID_INPUT',
  /** Something needed is not there: a backend package, an engine, credentials. */
  NOT_AVAILABLE: 'NOT_AVAILABLE',
  /** A build ran and failed. */
  BUILD_FAILED: 'BUILD_FAILED',
  /** The user or a timeout stopped the work. */
  CANCELLED: 'CANCELLED',
  /** A bug or an unexpected condition inside zenbuild. */
  INTERNAL: 'INTERNAL',
} as const;

export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

/** Process exit codes, as README.md documents them. */
export const EXIT_CODES: Record<ErrorCode, number> = {
  INVALID_INPUT: 2,
  NOT_AVAILABLE: 3,
  BUILD_FAILED: 1,
  CANCELLED: 130,
  INTERNAL: 1,
};

export interface ErrorDetails {
  /** Config path of the offending value, e.g. `steps.trainer.settings.docker.apt_packages[1]`. */
  path?: string;
  /** The file the problem was found in. */
  file?: string;
  command?: string;
  exitCode?: number;
  stderrTail?: string;
  remoteBuildId?: string;
  logsUrl?: string;
  /** Individual problems when several were found at once. */
  problems?: string[];
  [key: string]: unknown;
}

export interface ZenbuildErrorOptions {
  backend?: string;
  cause?: unknown;
  details?: ErrorDetails;
}

export class ZenbuildError extends Error {
  override readonly name = 'ZenbuildError';
  readonly code: ErrorCode;
  readonly backend: string | undefined;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, options: ZenbuildErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.backend = options.backend;
    this.details = options.details ?? {};
  }

  get exitCode(): number {
    return EXIT_CODES[this.code];
  }
}

export function invalidInput(message: string, details?: ErrorDetails): ZenbuildError {
  return new ZenbuildError(ERROR_CODES.INVALID_INPUT, message, details ? { details } : {});
}

export function notAvailable(message: string, options?: ZenbuildErrorOptions): ZenbuildError {
  return new ZenbuildError(ERROR_CODES.NOT_AVAILABLE, message, options);
}

/** A build stopped by its signal (Ctrl-C, a timeout, a caller's abort): nothing half-done is recorded. */
export function buildCancelled(): ZenbuildError {
  return new ZenbuildError(ERROR_CODES.CANCELLED, 'The build was cancelled; nothing was recorded.');
}

export function isZenbuildError(error: unknown): error is ZenbuildError {
  return error instanceof ZenbuildError;
}
