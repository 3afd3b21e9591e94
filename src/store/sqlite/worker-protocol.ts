import type { Bar } from '../../domain/index.ts';
import { ERROR_CODES, MigrationError, StoreUnavailableError, TickstreamError, type ErrorCode } from '../../errors.ts';
import type { LogFields } from '../../observability/index.ts';
import type { BarQuery, Checkpoint, TradeQuery } from '../store.ts';
import type { PackedTrades } from '../packed-trades.ts';

/** What the worker is started with (workerData). */
export interface SqliteWorkerData {
  readonly path: string;
  readonly chunkRows?: number;
  readonly busyTimeoutMs?: number;
}

/** A call from the main thread. The worker answers each with a StoreReply of the same id, in order. */
export type StoreRequest =
  | { readonly id: number; readonly op: 'migrate' }
  | { readonly id: number; readonly op: 'write'; readonly trades: PackedTrades; readonly bars: readonly Bar[]; readonly checkpoints: readonly Checkpoint[] }
  | { readonly id: number; readonly op: 'bars'; readonly query: BarQuery }
  | { readonly id: number; readonly op: 'trades'; readonly query: TradeQuery }
  | { readonly id: number; readonly op: 'symbols' }
  | { readonly id: number; readonly op: 'checkpoints'; readonly engineId: string }
  /** Closes the database; the worker exits after answering. */
  | { readonly id: number; readonly op: 'close' }
  /** Test hook: the worker throws from its message handler, as an unexpected bug would. */
  | { readonly id: number; readonly op: 'crash' };

export type StoreReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: WireError };

/** A log line of the worker's SqliteStore, written by the main thread's logger. */
export interface WorkerLogLine {
  readonly log: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  readonly fields?: LogFields;
}

/** An error as it crosses the thread boundary: enough to rebuild the same class, code and canRetry. */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly code?: ErrorCode;
  readonly canRetry: boolean;
  readonly cause?: { readonly name: string; readonly message: string; readonly code?: string };
}

export function toWireError(error: unknown): WireError {
  if (error instanceof TickstreamError) {
    const cause = causeOf(error.cause);
    return { name: error.name, message: error.message, code: error.code, canRetry: error.canRetry, ...(cause === undefined ? {} : { cause }) };
  }
  const cause = causeOf(error);
  return { name: 'Error', message: error instanceof Error ? error.message : String(error), canRetry: true, ...(cause === undefined ? {} : { cause }) };
}

/** Rebuilds the error the worker's store threw: StoreUnavailableError and MigrationError keep their class. */
export function fromWireError(wire: WireError): TickstreamError {
  const options = { canRetry: wire.canRetry, ...(wire.cause === undefined ? {} : { cause: rebuildCause(wire.cause) }) };
  switch (wire.code) {
    case 'TICKSTREAM_STORE_UNAVAILABLE':
      return new StoreUnavailableError(wire.message, options);
    case 'TICKSTREAM_STORE_MIGRATION_FAILED':
      return new MigrationError(wire.message, options);
    case undefined:
      return new StoreUnavailableError(`the SQLite store worker failed: ${wire.message}`, options);
    default: {
      const error = new TickstreamError(wire.code in ERROR_CODES ? wire.code : 'TICKSTREAM_STORE_UNAVAILABLE', wire.message, options);
      error.name = wire.name;
      return error;
    }
  }
}

function causeOf(error: unknown): WireError['cause'] {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
}

function rebuildCause(cause: NonNullable<WireError['cause']>): Error {
  const error = new Error(cause.message);
  error.name = cause.name;
  if (cause.code !== undefined) Object.assign(error, { code: cause.code });
  return error;
}
