/**
 * Every error tickstream throws extends TickstreamError and carries a stable code
 * from this registry. Retry and reconnect logic reads `canRetry`, never the message.
 * The README's error list is kept in step with this registry by a test.
 */
export const ERROR_CODES = {
  TICKSTREAM_CONFIG_INVALID: 'A configuration value is missing, malformed or out of range.',
  TICKSTREAM_INPUT_INVALID: 'A message or record from outside failed validation.',
  TICKSTREAM_SOURCE_UNAVAILABLE: 'The trade source could not be reached or dropped the connection.',
  TICKSTREAM_STORE_UNAVAILABLE: 'The store could not be reached or rejected a write.',
  TICKSTREAM_STORE_MIGRATION_FAILED: 'A schema migration failed; the store was left at the last good version.',
  TICKSTREAM_BUS_UNAVAILABLE: 'The transport (in-process log or Kafka) could not accept or deliver records.',
  TICKSTREAM_CHECKPOINT_INVALID: 'A saved engine checkpoint could not be read, or no longer matches the log (the topic was created again).',
  TICKSTREAM_STACK_PREREQUISITE_MISSING: 'Java 17 or Maven, needed by the local stack, is not installed.',
  TICKSTREAM_STACK_START_FAILED: 'A stack service (Kafka, Cassandra, Spark) did not become healthy.',
  TICKSTREAM_START_FAILED: 'A server of this process could not listen on its host and port, or the data dir could not be made or is in use by another producer or embedded engine.',
  TICKSTREAM_SPARK_FAILED: 'Spark Connect returned an error or a streaming query failed.',
  TICKSTREAM_CLOSED: 'The component was already closed.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface TickstreamErrorOptions {
  readonly canRetry?: boolean;
  readonly cause?: unknown;
}

export class TickstreamError extends Error {
  readonly code: ErrorCode;
  readonly canRetry: boolean;

  constructor(code: ErrorCode, message: string, options: TickstreamErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.canRetry = options.canRetry ?? false;
  }
}

/** A bad configuration value: names the key, the value and what is allowed. */
export class ConfigError extends TickstreamError {
  readonly key: string;

  constructor(key: string, value: unknown, allowed: string, source?: string) {
    const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
    const from = source === undefined ? '' : ` (from ${source})`;
    super('TICKSTREAM_CONFIG_INVALID', `invalid config ${key}=${shown}${from}: expected ${allowed}`);
    this.key = key;
  }
}

/** A record from outside failed validation; `reason` is what a dead-letter entry keeps. */
export class InputError extends TickstreamError {
  readonly reason: string;

  constructor(reason: string, options: TickstreamErrorOptions = {}) {
    super('TICKSTREAM_INPUT_INVALID', reason, options);
    this.reason = reason;
  }
}

export class SourceUnavailableError extends TickstreamError {
  constructor(message: string, options: TickstreamErrorOptions = {}) {
    super('TICKSTREAM_SOURCE_UNAVAILABLE', message, { canRetry: true, ...options });
  }
}

export class StoreUnavailableError extends TickstreamError {
  constructor(message: string, options: TickstreamErrorOptions = {}) {
    super('TICKSTREAM_STORE_UNAVAILABLE', message, { canRetry: true, ...options });
  }
}

export class MigrationError extends TickstreamError {
  constructor(message: string, options: TickstreamErrorOptions = {}) {
    super('TICKSTREAM_STORE_MIGRATION_FAILED', message, options);
  }
}

export class BusUnavailableError extends TickstreamError {
  constructor(message: string, options: TickstreamErrorOptions = {}) {
    super('TICKSTREAM_BUS_UNAVAILABLE', message, { canRetry: true, ...options });
  }
}

export class CheckpointError extends TickstreamError {
  constructor(message: string, options: TickstreamErrorOptions = {}) {
    super('TICKSTREAM_CHECKPOINT_INVALID', message, options);
  }
}

export class StackPrerequisiteError extends TickstreamError {
  constructor(message: string, options: TickstreamErrorOptions = {}) {
    super('TICKSTREAM_STACK_PREREQUISITE_MISSING', message, options);
  }
}

export class StackStartError extends TickstreamError {
  constructor(message: string, options: TickstreamErrorOptions = {}) {
    super('TICKSTREAM_STACK_START_FAILED', message, options);
  }
}

/** This process could not start one of its own parts: a listener's host:port, the data dir (or its spool, or its embedded engine's directory, held by another process). */
export class StartError extends TickstreamError {
  constructor(message: string, options: TickstreamErrorOptions = {}) {
    super('TICKSTREAM_START_FAILED', message, options);
  }
}

export class SparkError extends TickstreamError {
  constructor(message: string, options: TickstreamErrorOptions = {}) {
    super('TICKSTREAM_SPARK_FAILED', message, options);
  }
}

export class ClosedError extends TickstreamError {
  constructor(what: string) {
    super('TICKSTREAM_CLOSED', `${what} is closed`);
  }
}

/**
 * Why a file or directory could not be used, in words (`no such file`), instead of the errno's
 * `ENOENT: ..., open '<path>'`; other errors keep their message.
 */
export function fileErrorReason(error: unknown): string {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'it is a directory';
    case 'EEXIST':
      return 'it exists and is not a directory';
    case 'ENOTDIR':
      return 'a part of its path is a file, not a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'the file system is read-only';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}
