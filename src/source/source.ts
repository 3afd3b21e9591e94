import type { EpochMs, Trade, TradeSource as TradeSourceName } from '../domain/index.ts';

/** An invalid message or trade, kept with its reason instead of being dropped. */
export interface DeadLetter {
  /** The raw payload as received (the whole frame, or the one trade object as JSON). */
  readonly raw: string;
  readonly reason: string;
  readonly receivedAt: EpochMs;
  readonly source: TradeSourceName;
}

/** `elsewhere`: this process runs no source (a `process` or `serve` role); `tickstream produce` runs it. */
export type SourceState = 'connecting' | 'connected' | 'reconnecting' | 'finished' | 'closed' | 'elsewhere';

export interface SourceStatus {
  readonly kind: TradeSourceName;
  readonly state: SourceState;
  /** Human-readable detail: the URL (never the token), the reconnect attempt, the last error. */
  readonly detail: string;
  /**
   * Subscribed symbols that have had no trade since a while after subscribing (the Finnhub source
   * only): a symbol Finnhub does not know, or whose market is closed, gets nothing. Absent when none.
   */
  readonly quiet?: readonly string[];
}

/** Counters every source keeps; the pipeline's stats read them. */
export interface SourceCounters {
  /** Valid trades delivered. */
  received: number;
  /** Invalid frames and trades sent to the dead-letter log. */
  invalid: number;
  /** Messages of a type the protocol does not know (counted, ignored). */
  unknown: number;
  pings: number;
  /** `error` messages from the server. */
  serverErrors: number;
  reconnects: number;
}

export function newSourceCounters(): SourceCounters {
  return { received: 0, invalid: 0, unknown: 0, pings: 0, serverErrors: 0, reconnects: 0 };
}

/** Where a source delivers. Awaiting `trades` is the backpressure: the source pauses until it resolves. */
export interface TradeSink {
  trades(trades: readonly Trade[]): void | Promise<void>;
  invalid(letters: readonly DeadLetter[]): void | Promise<void>;
  status?(status: SourceStatus): void;
}

/** A source of trades: the Finnhub client (also used against the simulator) or a replay file. */
export interface TradeSource {
  readonly kind: TradeSourceName;
  readonly counters: SourceCounters;
  status(): SourceStatus;
  /** Starts delivering to the sink; resolves once connected (or the file is open). */
  start(sink: TradeSink): Promise<void>;
  /** Resolves when a finite source (replay) has delivered everything; never for live sources. */
  finished(): Promise<void>;
  close(): Promise<void>;
}
