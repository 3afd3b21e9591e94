import cassandra from 'cassandra-driver';
import { StoreUnavailableError, TickstreamError } from '../../errors.ts';

const { errors, types } = cassandra;
const codes = types.responseErrorCodes;

/** Server answers that say "not now": the same request can succeed later. */
const TRANSIENT_RESPONSES: ReadonlySet<number> = new Set([
  codes.serverError,
  codes.unavailableException,
  codes.overloaded,
  codes.isBootstrapping,
  codes.truncateError,
  codes.writeTimeout,
  codes.readTimeout,
  codes.readFailure,
  codes.writeFailure,
  codes.clientWriteFailure,
]);

/**
 * Whether a driver error can be retried: yes when a node is down, slow or overloaded, or no
 * host answered; no when the request itself is wrong (syntax, unknown table, bad value,
 * credentials), where a retry would fail the same way forever.
 */
export function isRetryable(error: unknown): boolean {
  if (error instanceof errors.ResponseError) return TRANSIENT_RESPONSES.has(error.code);
  if (error instanceof errors.NoHostAvailableError) return true;
  if (error instanceof errors.OperationTimedOutError) return true;
  if (error instanceof errors.BusyConnectionError) return true;
  if (error instanceof errors.ArgumentError) return false;
  if (error instanceof errors.NotSupportedError) return false;
  if (error instanceof errors.AuthenticationError) return false;
  // The encoder throws TypeError/RangeError for a value that does not fit its column.
  if (error instanceof TypeError || error instanceof RangeError) return false;
  return true;
}

/** A driver failure as the store's error, naming what was being done and the server's message. */
export function storeError(what: string, error: unknown): TickstreamError {
  if (error instanceof TickstreamError) return error;
  return new StoreUnavailableError(`Cassandra store ${what} failed: ${describeDriverError(error)}`, { canRetry: isRetryable(error), cause: error });
}

/**
 * A one-line reason. NoHostAvailableError's own message embeds each host's error with its
 * stack; this names each host tried and its error's message instead, and says how to start
 * a local Cassandra.
 */
export function describeDriverError(error: unknown): string {
  if (error instanceof errors.NoHostAvailableError) {
    const inner = error.innerErrors as Record<string, unknown> | null | undefined;
    const hosts = Object.entries(inner ?? {}).map(([host, e]) => `${host} (${e instanceof Error ? e.message.split('\n', 1)[0] : String(e)})`);
    return hosts.length === 0 ? error.message : `no Cassandra node answered: ${hosts.join(', ')}; is it running? (tickstream stack up cassandra)`;
  }
  return error instanceof Error ? error.message : String(error);
}
