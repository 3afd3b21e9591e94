import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3, { type Database, type Statement } from 'better-sqlite3';
import type { Bar } from '../../domain/index.ts';
import { StoreUnavailableError, TickstreamError } from '../../errors.ts';
import { silentLogger, type Logger } from '../../observability/index.ts';
import { pagesForward, type BarQuery, type Checkpoint, type FlushBatch, type MigrationResult, type Store, type StoredTrade, type TradeQuery } from '../store.ts';
import { ChunkedUpsert } from './chunked-upsert.ts';
import { applyMigrations, type Migration } from './migrate.ts';
import { MIGRATIONS } from './migrations/index.ts';
import { packedTradesOf, type PackedTrades } from '../packed-trades.ts';
import {
  BAR_COLUMNS,
  barFromRow,
  CHECKPOINT_COLUMNS,
  checkpointFromRow,
  conditionsJsonColumn,
  DayOf,
  putBarValues,
  putCheckpointValues,
  putPackedTradeRowValues,
  putPackedTradeValues,
  TRADE_INSERT_COLUMNS,
  TRADE_RUN_COLUMNS,
  tradeRunValues,
  tradeFromRow,
  type BarRow,
  type CheckpointRow,
  type TradeRow,
} from './rows.ts';

export interface SqliteStoreOptions {
  /** The database file; `:memory:` for a private in-memory one. */
  readonly path: string;
  readonly logger?: Logger;
  /** Replaces the built-in migrations (tests). */
  readonly migrations?: readonly Migration[];
  /** Rows per multi-row INSERT. */
  readonly chunkRows?: number;
  /** How long a writer waits for a lock held by another connection. */
  readonly busyTimeoutMs?: number;
  /** WAL size in pages at which a commit copies the WAL back into the database (SQLite's default: 1000). */
  readonly walAutocheckpointPages?: number;
  readonly now?: () => number;
}

interface Statements {
  readonly trades: ChunkedUpsert;
  /** Trades of one run of TRADE_RUN_COLUMNS, which are bound once per statement. */
  readonly tradeRuns: ChunkedUpsert;
  readonly bars: ChunkedUpsert;
  readonly checkpoints: ChunkedUpsert;
  readonly barsRange: Statement<[string, string, number, number, number], BarRow>;
  readonly barsFrom: Statement<[string, string, number, number], BarRow>;
  readonly tradesBefore: Statement<[string, string, number, number, number], TradeRow>;
  readonly checkpointsOf: Statement<[string], CheckpointRow>;
  readonly symbols: Statement<[], { symbol: string }>;
}

const NO_DAY_LIMIT = '9999-12-31';
/**
 * The page size of a new database file (SQLite's default is 4 KB). With 16 KB pages an insert
 * splits pages a quarter as often and a checkpoint copies fewer of them: the process role
 * behind a backlog stored 290k-297k trades/s instead of 259k-281k, at 0.3 core-µs less per
 * trade (README, "Benchmarks"). A file made before keeps its page size.
 */
const PAGE_SIZE = 16_384;
const DAY_MS = 86_400_000;

/**
 * The embedded store: one SQLite file in WAL mode. better-sqlite3 is synchronous, so each
 * call runs to completion on the event loop; a write is one transaction, so a flush batch
 * (trades, bars and the checkpoint that covers them) is all there or not at all.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly #path: string;
  readonly #log: Logger;
  readonly #migrations: readonly Migration[];
  readonly #chunkRows: number;
  readonly #now: () => number;
  readonly #days = new DayOf();
  #db: Database | undefined;
  #statements: Statements | undefined;

  constructor(options: SqliteStoreOptions) {
    this.#path = options.path;
    this.#log = options.logger ?? silentLogger;
    this.#migrations = options.migrations ?? MIGRATIONS;
    this.#chunkRows = options.chunkRows ?? 1000;
    this.#now = options.now ?? Date.now;
    try {
      if (options.path !== ':memory:' && options.path !== '') mkdirSync(dirname(options.path), { recursive: true });
      const db = new BetterSqlite3(options.path);
      this.#db = db;
      // Takes effect only while the file is empty: before WAL mode writes its header.
      db.pragma(`page_size = ${PAGE_SIZE}`);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('cache_size = -65536');
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5_000))}`);
      if (options.walAutocheckpointPages !== undefined) db.pragma(`wal_autocheckpoint = ${Math.max(0, Math.floor(options.walAutocheckpointPages))}`);
    } catch (error) {
      this.#db?.close();
      this.#db = undefined;
      throw unavailable(`cannot open the SQLite store at ${options.path}`, error);
    }
    this.#log.debug('sqlite store open', { path: options.path });
  }

  async migrate(): Promise<MigrationResult> {
    const db = this.#open();
    // Statements prepared before a migration may name tables that changed.
    this.#statements = undefined;
    try {
      return applyMigrations(db, this.#migrations, this.#now());
    } catch (error) {
      if (error instanceof TickstreamError) throw error;
      throw unavailable(`migrating the SQLite store at ${this.#path} failed`, error);
    }
  }

  async write(batch: FlushBatch): Promise<void> {
    this.writePacked(packedTradesOf(batch), batch.bars, batch.checkpoints);
  }

  /** write() for a batch whose trades are already packed (the worker store's path); throws instead of rejecting. */
  writePacked(trades: PackedTrades, bars: readonly Bar[], checkpoints: readonly Checkpoint[]): void {
    this.#run('write', (db, s) => {
      const now = this.#now();
      const order = keyOrder(trades);
      const conditions = conditionsJsonColumn(trades);
      const days = this.#days;
      db.transaction(() => {
        writeTrades(s, trades, order, conditions, days);
        s.bars.run(bars.length, (out, at, i) => putBarValues(out, at, bars[i] as Bar, now));
        s.checkpoints.run(checkpoints.length, (out, at, i) => putCheckpointValues(out, at, checkpoints[i] as Checkpoint, now));
      })();
    });
  }

  /** Copies what the WAL holds back into the database without waiting for readers (a passive checkpoint). */
  checkpointWal(): void {
    this.#run('checkpoint', (db) => db.pragma('wal_checkpoint(PASSIVE)'));
  }

  async bars(query: BarQuery): Promise<Bar[]> {
    return this.#run('read bars', (_db, s) => {
      if (pagesForward(query)) return s.barsFrom.all(query.symbol, query.interval, query.from, query.limit).map(barFromRow);
      const rows = s.barsRange.all(
        query.symbol,
        query.interval,
        query.from ?? Number.MIN_SAFE_INTEGER,
        query.to ?? Number.MAX_SAFE_INTEGER,
        query.limit,
      );
      const bars = new Array<Bar>(rows.length);
      for (let i = 0; i < rows.length; i++) bars[rows.length - 1 - i] = barFromRow(rows[i]!);
      return bars;
    });
  }

  async trades(query: TradeQuery): Promise<StoredTrade[]> {
    return this.#run('read trades', (_db, s) => {
      const before = query.before;
      const lastDay = before === undefined ? NO_DAY_LIMIT : dayText(before);
      // (ts, seq) < (before, -1) is ts < before: every seq is at least 0.
      const seq = before === undefined ? -1 : (query.beforeSeq ?? -1);
      return s.tradesBefore.all(query.symbol, lastDay, before ?? Number.MAX_SAFE_INTEGER, seq, query.limit).map(tradeFromRow);
    });
  }

  async symbols(): Promise<string[]> {
    return this.#run('read symbols', (_db, s) => s.symbols.all().map((r) => r.symbol));
  }

  async checkpoints(engineId: string): Promise<Map<number, Checkpoint>> {
    return this.#run('read checkpoints', (_db, s) => {
      const out = new Map<number, Checkpoint>();
      for (const row of s.checkpointsOf.all(engineId)) out.set(row.partition, checkpointFromRow(engineId, row));
      return out;
    });
  }

  async close(): Promise<void> {
    const db = this.#db;
    if (db === undefined) return;
    this.#db = undefined;
    this.#statements = undefined;
    try {
      db.close();
    } catch (error) {
      throw unavailable(`closing the SQLite store at ${this.#path} failed`, error);
    }
    this.#log.debug('sqlite store closed', { path: this.#path });
  }

  #open(): Database {
    if (this.#db === undefined) {
      throw new StoreUnavailableError(`the SQLite store at ${this.#path} is closed`, { canRetry: false });
    }
    return this.#db;
  }

  #run<T>(what: string, op: (db: Database, s: Statements) => T): T {
    const db = this.#open();
    try {
      this.#statements ??= this.#prepare(db);
      return op(db, this.#statements);
    } catch (error) {
      if (error instanceof TickstreamError) throw error;
      throw unavailable(`SQLite store ${what} failed`, error);
    }
  }

  #prepare(db: Database): Statements {
    const chunk = this.#chunkRows;
    return {
      trades: new ChunkedUpsert(db, 'trades', TRADE_INSERT_COLUMNS, chunk),
      tradeRuns: new ChunkedUpsert(db, 'trades', TRADE_INSERT_COLUMNS, chunk, TRADE_RUN_COLUMNS),
      bars: new ChunkedUpsert(db, 'bars', BAR_COLUMNS, chunk),
      checkpoints: new ChunkedUpsert(db, 'checkpoints', CHECKPOINT_COLUMNS, chunk),
      barsRange: db.prepare(
        `SELECT symbol, interval, window_start, window_end, open, high, low, close, volume, vwap, avg_price, trade_count
         FROM bars WHERE symbol = ? AND interval = ? AND window_start >= ? AND window_start < ?
         ORDER BY window_start DESC LIMIT ?`,
      ),
      barsFrom: db.prepare(
        `SELECT symbol, interval, window_start, window_end, open, high, low, close, volume, vwap, avg_price, trade_count
         FROM bars WHERE symbol = ? AND interval = ? AND window_start >= ?
         ORDER BY window_start LIMIT ?`,
      ),
      // day is derived from ts, so (day, ts, seq) descending is newest first and follows the primary key.
      tradesBefore: db.prepare(
        `SELECT symbol, ts, seq, price, volume, conditions, source, ingest_ts
         FROM trades WHERE symbol = ? AND day <= ? AND (ts, seq) < (?, ?)
         ORDER BY day DESC, ts DESC, seq DESC LIMIT ?`,
      ),
      checkpointsOf: db.prepare('SELECT partition, next_offset, state FROM checkpoints WHERE engine_id = ? ORDER BY partition'),
      // A skip scan: one index seek per distinct symbol instead of reading every row.
      symbols: db.prepare(
        `WITH RECURSIVE
           t(s) AS (SELECT min(symbol) FROM trades UNION ALL SELECT (SELECT min(symbol) FROM trades WHERE symbol > t.s) FROM t WHERE t.s IS NOT NULL),
           b(s) AS (SELECT min(symbol) FROM bars UNION ALL SELECT (SELECT min(symbol) FROM bars WHERE symbol > b.s) FROM b WHERE b.s IS NOT NULL)
         SELECT s AS symbol FROM t WHERE s IS NOT NULL UNION SELECT s FROM b WHERE s IS NOT NULL ORDER BY symbol`,
      ),
    };
  }
}

/**
 * The shortest run of trades written with its shared columns bound once. Binding a row's three
 * shared values costs about 0.3 µs, a statement a few µs, and a run takes up to log2 of its
 * length of them: short runs gain little or nothing, so their rows join the rest, written
 * with every column bound.
 */
const MIN_RUN_ROWS = 64;

/**
 * Writes a batch's trades in key order. A batch in key order comes in runs of one symbol, day
 * and source; each run of MIN_RUN_ROWS or more is written with those three bound once per
 * statement (the store alone, 50 symbols in batches of 20,000: 1.54-1.60 core-µs a trade
 * instead of 1.81-1.91). The rows of shorter runs, and those left at a run's end, are written
 * together with every column bound.
 */
function writeTrades(s: Statements, p: PackedTrades, order: Uint32Array, conditions: readonly string[], days: DayOf): void {
  const n = p.count;
  const codes = p.codes;
  const x = p.numbers;
  const rest = new Uint32Array(n);
  let restCount = 0;
  let start = 0;
  while (start < n) {
    const first = order[start] as number;
    const symbol = codes[first];
    const source = codes[n + first];
    const day = Math.floor((x[2 * n + first] as number) / DAY_MS);
    let end = start + 1;
    for (; end < n; end++) {
      const i = order[end] as number;
      if (codes[i] !== symbol || codes[n + i] !== source || Math.floor((x[2 * n + i] as number) / DAY_MS) !== day) break;
    }
    const written =
      end - start < MIN_RUN_ROWS
        ? 0
        : s.tradeRuns.run(end - start, (out, at, k) => putPackedTradeRowValues(out, at, p, order[start + k] as number, conditions), tradeRunValues(p, first, days), MIN_RUN_ROWS);
    for (let k = start + written; k < end; k++) rest[restCount++] = order[k] as number;
    start = end;
  }
  s.trades.run(restCount, (out, at, k) => putPackedTradeValues(out, at, p, rest[k] as number, conditions, days));
}

/**
 * Row indices in primary-key order, (symbol, ts, seq); day follows ts. A batch interleaves
 * symbols; inserting in key order appends to a few B-tree leaves instead of seeking across
 * all of them. Rows are bucketed by symbol in one pass; a symbol's rows arrive nearly in ts
 * order, so sorting each bucket is close to a linear check.
 */
function keyOrder(p: PackedTrades): Uint32Array {
  const n = p.count;
  const symbolCount = p.symbols.length;
  const byName = Array.from(p.symbols.keys()).sort((a, b) => {
    const x = p.symbols[a] as string;
    const y = p.symbols[b] as string;
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const rank = new Uint32Array(symbolCount);
  for (let r = 0; r < symbolCount; r++) rank[byName[r] as number] = r;
  const bucketStart = new Uint32Array(symbolCount + 1);
  for (let i = 0; i < n; i++) {
    const r = (rank[p.codes[i] as number] as number) + 1;
    bucketStart[r] = (bucketStart[r] as number) + 1;
  }
  for (let r = 1; r <= symbolCount; r++) bucketStart[r] = (bucketStart[r] as number) + (bucketStart[r - 1] as number);
  const next = bucketStart.slice();
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const r = rank[p.codes[i] as number] as number;
    const at = next[r] as number;
    order[at] = i;
    next[r] = at + 1;
  }
  const x = p.numbers;
  const tsAt = 2 * n;
  const seqAt = 3 * n;
  const before = (a: number, b: number): number =>
    (x[tsAt + a] as number) - (x[tsAt + b] as number) || (x[seqAt + a] as number) - (x[seqAt + b] as number);
  for (let r = 0; r < symbolCount; r++) {
    const start = bucketStart[r] as number;
    const end = bucketStart[r + 1] as number;
    let sorted = true;
    for (let k = start + 1; k < end && sorted; k++) sorted = before(order[k - 1] as number, order[k] as number) <= 0;
    if (!sorted) order.set(Array.from(order.subarray(start, end)).sort(before), start);
  }
  return order;
}

function dayText(ts: number): string {
  const day = Math.floor(ts / DAY_MS);
  if (!Number.isFinite(day) || Math.abs(day) > 2_900_000) return NO_DAY_LIMIT;
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

function unavailable(message: string, error: unknown): StoreUnavailableError {
  const reason = error instanceof Error ? error.message : String(error);
  return new StoreUnavailableError(`${message}: ${reason}`, { cause: error });
}
