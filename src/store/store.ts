import type { Bar, EpochMs, Offset, Trade } from '../domain/index.ts';
import type { PackedTrades } from './packed-trades.ts';

/** A trade as stored: `seq` is its log offset; `day` (UTC date) is derived from ts. */
export interface StoredTrade {
  readonly trade: Trade;
  readonly seq: Offset;
}

/** Engine state of one partition and the next offset to read, saved together. */
export interface Checkpoint {
  /** Which engine owns it, e.g. the consumer group; keeps two engines' state apart. */
  readonly engineId: string;
  readonly partition: number;
  /** The next offset to read. */
  readonly offset: Offset;
  /** Serialised window state (engine/checkpoint.ts). */
  readonly state: string;
}

/**
 * One flush of the engine: written atomically where the store can, idempotently always. Its
 * trades come as objects, or packed column-wise by a TradePacker as the engine accepted them
 * (for the SQLite store, which writes from that form; so no object per trade has to live until
 * the flush). Every store takes both forms. A write leaves the batch as it found it, so a
 * failed write can be retried with the same batch.
 */
export type FlushBatch = {
  readonly bars: readonly Bar[];
  readonly checkpoints: readonly Checkpoint[];
} & ({ readonly trades: readonly StoredTrade[]; readonly packedTrades?: undefined } | { readonly trades?: undefined; readonly packedTrades: PackedTrades });

/**
 * One symbol's trades in a flush, as much of them as a live view needs: how many there were,
 * the first (a session's opening price), the newest by (ts, seq) (event time may step back
 * within a symbol's log order) and the last few in log order (a trade tape).
 */
export interface SymbolTrades {
  readonly symbol: string;
  readonly count: number;
  readonly first: StoredTrade;
  readonly latest: StoredTrade;
  /** The symbol's last trades in log order, oldest first; how many is up to the caller. */
  readonly recent: readonly StoredTrade[];
}

export interface BarQuery {
  readonly symbol: string;
  readonly interval: string;
  /** Inclusive lower bound on window_start. */
  readonly from?: EpochMs;
  /** Exclusive upper bound on window_start. */
  readonly to?: EpochMs;
  /**
   * How many bars, in ascending window_start: the oldest `limit` from `from` when `from` comes
   * without `to` (a page forward), else the newest `limit` in the range (see pagesForward).
   */
  readonly limit: number;
}

/**
 * Whether a bar query asks for the oldest bars of its range rather than the newest: `from`
 * without `to` is a page forward, as a reader of history asks for the bars after the last
 * ones they have; `to`, or no bound at all, reads back from the newest.
 */
export function pagesForward<Q extends { readonly from?: EpochMs; readonly to?: EpochMs }>(query: Q): query is Q & { readonly from: EpochMs } {
  return query.from !== undefined && query.to === undefined;
}

export interface TradeQuery {
  readonly symbol: string;
  /** Newest first. */
  readonly limit: number;
  /** Only trades with ts < before. */
  readonly before?: EpochMs;
  /**
   * With `before`: only trades that come before (before, beforeSeq) in (ts, seq) order, so
   * that the ts and seq of a page's last trade start the next page without skipping the
   * trades that share its timestamp.
   */
  readonly beforeSeq?: number;
}

export interface MigrationResult {
  readonly applied: readonly string[];
  readonly current: string;
}

/** The store interface; SQLite (embedded) and Cassandra (cluster) implement it and run test/contract/store.contract.ts. */
export interface Store {
  readonly kind: 'sqlite' | 'cassandra';
  /** Applies pending migrations; a no-op when there are none. */
  migrate(): Promise<MigrationResult>;
  /** Upserts trades and bars keyed as in DESIGN.md and saves the checkpoints. */
  write(batch: FlushBatch): Promise<void>;
  bars(query: BarQuery): Promise<Bar[]>;
  /** Newest first. */
  trades(query: TradeQuery): Promise<StoredTrade[]>;
  symbols(): Promise<string[]>;
  checkpoints(engineId: string): Promise<Map<number, Checkpoint>>;
  close(): Promise<void>;
}
