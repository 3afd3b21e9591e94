import cassandra, { type Client, type QueryOptions } from 'cassandra-driver';
import type { Bar } from '../../domain/index.ts';
import { ConfigError, StoreUnavailableError, type TickstreamError } from '../../errors.ts';
import { silentLogger, type Logger } from '../../observability/index.ts';
import { pagesForward, type BarQuery, type Checkpoint, type FlushBatch, type MigrationResult, type Store, type StoredTrade, type TradeQuery } from '../store.ts';
import { storedTradesOf } from '../packed-trades.ts';
import { DEFAULT_REPLICATION, otherReplicationWarning, parseReplication, REPLICATION_ALLOWED, replicationCql, type KeyspaceReplication } from '../keyspace-replication.ts';
import { barTtlSeconds } from './bar-ttl.ts';
import { forEachBounded } from './bounded-fan-out.ts';
import { storeError } from './driver-errors.ts';
import { applyCqlMigrations, type CqlMigration } from './migrate.ts';
import { CQL_MIGRATIONS } from './migrations/index.ts';
import { barPartitions, checkpointPartitions, chunksOf, tradePartitions, utcDay } from './partitions.ts';
import { RepeatedValues } from './repeated-values.ts';
import {
  BAR_COLUMNS,
  barFromRow,
  barParams,
  CHECKPOINT_COLUMNS,
  checkpointFromRow,
  checkpointParams,
  tradeFromRow,
  tradeParams,
  TRADE_COLUMNS,
  type CqlRow,
} from './rows.ts';

const { policies, types } = cassandra;

export interface CassandraStoreOptions {
  /** `host:port` of one or more nodes; the driver discovers the rest. */
  readonly contactPoints: readonly string[];
  readonly localDataCenter: string;
  readonly keyspace: string;
  /** Most batches in flight during one write. */
  readonly concurrency: number;
  readonly logger?: Logger;
  /**
   * How the first migration replicates the keyspace it creates, as `cassandra.replication`
   * spells it: `3` (SimpleStrategy) or `dc1:3,dc2:3` (NetworkTopologyStrategy). Default 1.
   */
  readonly replication?: string;
  /** Replaces the built-in migrations (tests). */
  readonly migrations?: readonly CqlMigration[];
  /** Most rows per unlogged batch (default DEFAULT_BATCH_ROWS); every batch stays inside one partition. */
  readonly batchRows?: number;
  /** How many day partitions a latest-trades read walks back through at most. */
  readonly maxTradeDays?: number;
  /** Rows per page of a read. */
  readonly pageSize?: number;
  readonly connectTimeoutMs?: number;
  /** How long the driver waits for one request before trying another host or failing. */
  readonly requestTimeoutMs?: number;
  readonly now?: () => number;
}

const KEYSPACE = /^[a-z][a-z0-9_]{0,47}$/;
/** A day later than any trade: the upper bound when a read has no `before`. */
const LAST_DAY = '9999-12-31';
const LAST_DAY_MS = Date.UTC(9999, 11, 31);
/** symbols() reads partition keys only; this keeps it bounded whatever the data. */
const MAX_SYMBOL_PARTITIONS = 100_000;
/** Remembered (symbol, day) pairs already in trade_days; cleared when it grows past this. */
const MAX_KNOWN_DAYS = 100_000;
/**
 * Rows per batch. A batch inside one partition is one mutation to Cassandra: it is parsed,
 * logged and applied once, so the server's cost per row falls as batches grow (measured in
 * store/README.md). Batch size warnings and failures (batch_size_warn/fail_threshold) apply
 * only to batches of several partitions, so they never see these. 1,000 trades are about
 * 100 KB, far below the largest mutation (half a commitlog segment, 4 MiB with the stack's 8 MiB).
 */
export const DEFAULT_BATCH_ROWS = 1_000;
const EXECUTE_OPTIONS = { prepare: true, isIdempotent: true } as const;
const BATCH_OPTIONS = { prepare: true, isIdempotent: true, logged: false } as const;
/** The write options of one write(): every statement carries the write's own timestamp. */
type WriteOptions = { readonly execute: QueryOptions; readonly batch: QueryOptions };

interface Statements {
  readonly insertTrade: string;
  readonly insertTradeDay: string;
  readonly insertBar: string;
  readonly insertCheckpoint: string;
  readonly selectBars: string;
  readonly selectBarsFrom: string;
  readonly selectTradeDays: string;
  readonly selectTrades: string;
  readonly selectTradeSymbols: string;
  readonly selectBarPartitions: string;
  readonly selectCheckpoints: string;
}

type Write = { readonly query: string; readonly params: unknown[] };

/**
 * The cluster store: Apache Cassandra through cassandra-driver. Every statement is prepared
 * and marked idempotent (all writes are upserts by primary key), so the driver may retry or
 * speculate. A write groups rows by partition and sends unlogged batches that each stay in
 * one partition, at most `concurrency` at a time.
 *
 * A write is not atomic across partitions. Checkpoints go last, only once every trade and bar
 * of the batch is stored: after a crash the engine resumes from the previous checkpoint and
 * re-applies rows that are already there, which the upserts make exact.
 *
 * Every statement of a write carries one write timestamp, taken when the write begins (and
 * above the last one this store used), instead of the driver's timestamp at each statement's
 * send. Cassandra keeps the version with the newest timestamp whatever order they arrive in,
 * so a write that is still sending when its partitions move to another member (whose revoke
 * outlived the group's rebalance timeout) cannot put its older bars and checkpoint over the
 * newer ones of the member that took them over: those were begun later.
 */
export class CassandraStore implements Store {
  readonly kind = 'cassandra' as const;
  readonly #client: Client;
  readonly #keyspace: string;
  readonly #replication: KeyspaceReplication;
  readonly #log: Logger;
  readonly #migrations: readonly CqlMigration[];
  readonly #concurrency: number;
  readonly #batchRows: number;
  readonly #maxTradeDays: number;
  readonly #pageSize: number;
  readonly #now: () => number;
  readonly #q: Statements;
  readonly #knownDays = new Set<string>();
  readonly #repeated = new RepeatedValues();
  #connecting: Promise<void> | undefined;
  /** The write timestamp (µs since the epoch) of the last write, so that the next one is later even within a millisecond. */
  #lastWriteMicros = 0;
  /** Set by the first connect that succeeds. */
  #connectedOnce = false;
  /** Whether the last request failed because Cassandra did not answer (a retryable error); the next one that succeeds clears it. */
  #away = false;
  #closed = false;

  constructor(options: CassandraStoreOptions) {
    if (!KEYSPACE.test(options.keyspace)) throw new ConfigError('cassandra.keyspace', options.keyspace, 'a lower-case CQL identifier');
    const replication = parseReplication(options.replication ?? DEFAULT_REPLICATION);
    if (replication === undefined) throw new ConfigError('cassandra.replication', options.replication, REPLICATION_ALLOWED);
    if (options.contactPoints.length === 0) throw new ConfigError('cassandra.contactPoints', '', 'at least one host:port');
    this.#keyspace = options.keyspace;
    this.#replication = replication;
    this.#log = options.logger ?? silentLogger;
    this.#migrations = options.migrations ?? CQL_MIGRATIONS;
    this.#concurrency = Math.max(1, Math.floor(options.concurrency));
    this.#batchRows = Math.max(1, Math.floor(options.batchRows ?? DEFAULT_BATCH_ROWS));
    this.#maxTradeDays = Math.max(1, Math.floor(options.maxTradeDays ?? 30));
    this.#pageSize = Math.max(1, Math.floor(options.pageSize ?? 1_000));
    this.#now = options.now ?? Date.now;
    this.#q = statements(options.keyspace);
    this.#client = new cassandra.Client({
      contactPoints: [...options.contactPoints],
      localDataCenter: options.localDataCenter,
      queryOptions: { consistency: types.consistencies.localQuorum },
      socketOptions: { connectTimeout: options.connectTimeoutMs ?? 5_000, readTimeout: options.requestTimeoutMs ?? 12_000 },
      // The default waits up to 10 minutes between attempts; after an outage the store should be back within seconds.
      policies: { reconnection: new policies.reconnection.ExponentialReconnectionPolicy(250, 10_000, false) },
    });
    this.#client.on('log', (level: string, className: string, message: string) => {
      if (level !== 'error' && level !== 'warning') return;
      // Until a first connect succeeds, and while Cassandra does not answer, the failure the caller
      // logs (once, with reminders) explains it; the driver's own warnings only repeat it, several
      // times a second while it reconnects.
      if (this.#connectedOnce && !this.#away) this.#log.warn(`cassandra driver: ${message}`, { from: className });
      else this.#log.debug(`cassandra driver: ${message}`, { from: className });
    });
  }

  async migrate(): Promise<MigrationResult> {
    const client = await this.#connect('migrate');
    await this.#warnOfOtherReplication(client);
    return applyCqlMigrations(client, this.#migrations, {
      keyspace: this.#keyspace,
      replication: replicationCql(this.#replication),
      nowMs: this.#now(),
      log: this.#log,
    });
  }

  async write(batch: FlushBatch): Promise<void> {
    const client = await this.#connect('write');
    const now = this.#now();
    const updatedAt = new Date(now);
    const timestamp = (this.#lastWriteMicros = Math.max(now * 1_000, this.#lastWriteMicros + 1));
    const options: WriteOptions = { execute: { ...EXECUTE_OPTIONS, timestamp }, batch: { ...BATCH_OPTIONS, timestamp } };
    const q = this.#q;
    const groups: { readonly rows: Write[]; readonly known?: string }[] = [];
    for (const p of tradePartitions(storedTradesOf(batch))) {
      for (const run of chunksOf(p.trades, this.#batchRows)) groups.push({ rows: run.map((t) => ({ query: q.insertTrade, params: tradeParams(p.day, t, this.#repeated) })) });
      const known = `${p.symbol}\u0000${p.day}`;
      if (!this.#knownDays.has(known)) groups.push({ rows: [{ query: q.insertTradeDay, params: [p.symbol, p.day] }], known });
    }
    for (const p of barPartitions(batch.bars)) {
      const ttl = barTtlSeconds(p.interval);
      for (const run of chunksOf(p.bars, this.#batchRows)) groups.push({ rows: run.map((b) => ({ query: q.insertBar, params: barParams(b, updatedAt, ttl) })) });
    }
    try {
      await forEachBounded(groups, this.#concurrency, async (group) => {
        await this.#send(client, group.rows, options);
        if (group.known !== undefined) this.#rememberDay(group.known);
      });
      // Last, and only once everything it covers is stored.
      const checkpoints = checkpointPartitions(batch.checkpoints).map((p) =>
        p.checkpoints.map((c): Write => ({ query: q.insertCheckpoint, params: checkpointParams(c, updatedAt) })),
      );
      await forEachBounded(checkpoints, this.#concurrency, (rows) => this.#send(client, rows, options));
    } catch (error) {
      throw this.#failure('write', error);
    }
    this.#away = false;
  }

  async bars(query: BarQuery): Promise<Bar[]> {
    if (query.limit <= 0) return [];
    const client = await this.#connect('read bars');
    if (pagesForward(query)) {
      const rows = await this.#select(client, 'read bars', this.#q.selectBarsFrom, [query.symbol, query.interval, query.from, query.limit], query.limit);
      return rows.map(barFromRow);
    }
    const rows = await this.#select(
      client,
      'read bars',
      this.#q.selectBars,
      [query.symbol, query.interval, query.from ?? Number.MIN_SAFE_INTEGER, query.to ?? Number.MAX_SAFE_INTEGER, query.limit],
      query.limit,
    );
    // The partition is newest first; the interface returns the newest `limit` oldest first.
    const bars = new Array<Bar>(rows.length);
    for (let i = 0; i < rows.length; i++) bars[rows.length - 1 - i] = barFromRow(rows[i]!);
    return bars;
  }

  async trades(query: TradeQuery): Promise<StoredTrade[]> {
    if (query.limit <= 0) return [];
    const client = await this.#connect('read trades');
    const before = query.before ?? Number.MAX_SAFE_INTEGER;
    // (ts, seq) < (before, -1) is ts < before: every seq is at least 0.
    const seq = query.before === undefined ? -1 : (query.beforeSeq ?? -1);
    // The newest day that can hold a match: that of before, or of before - 1 when ts < before.
    const newest = seq < 0 ? before - 1 : before;
    const lastDay = query.before === undefined || newest > LAST_DAY_MS ? LAST_DAY : utcDay(Math.max(0, newest));
    const days = await this.#select(client, 'read trade days', this.#q.selectTradeDays, [query.symbol, lastDay, this.#maxTradeDays], this.#maxTradeDays);
    const out: StoredTrade[] = [];
    for (const d of days) {
      const want = query.limit - out.length;
      const rows = await this.#select(client, 'read trades', this.#q.selectTrades, [query.symbol, d['day'], before, seq, want], want);
      for (const row of rows) out.push(tradeFromRow(row));
      if (out.length >= query.limit) break;
    }
    return out;
  }

  async symbols(): Promise<string[]> {
    const client = await this.#connect('read symbols');
    const [traded, barred] = await Promise.all([
      this.#select(client, 'read symbols', this.#q.selectTradeSymbols, [], MAX_SYMBOL_PARTITIONS),
      this.#select(client, 'read symbols', this.#q.selectBarPartitions, [], MAX_SYMBOL_PARTITIONS),
    ]);
    const names = new Set<string>();
    for (const row of [...traded, ...barred]) names.add(String(row['symbol']));
    return [...names].sort();
  }

  async checkpoints(engineId: string): Promise<Map<number, Checkpoint>> {
    const client = await this.#connect('read checkpoints');
    const rows = await this.#select(client, 'read checkpoints', this.#q.selectCheckpoints, [engineId], Number.MAX_SAFE_INTEGER);
    const out = new Map<number, Checkpoint>();
    for (const row of rows) {
      const c = checkpointFromRow(engineId, row);
      out.set(c.partition, c);
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#client.shutdown();
    } catch (error) {
      throw storeError('close', error);
    }
    this.#log.debug('cassandra store closed', { keyspace: this.#keyspace });
  }

  async #connect(what: string): Promise<Client> {
    if (this.#closed) throw new StoreUnavailableError(`the Cassandra store (keyspace ${this.#keyspace}) is closed`, { canRetry: false });
    // A failed connect is forgotten, so the next call tries again: the engine retries a write until Cassandra is back.
    this.#connecting ??= this.#client.connect().then(
      () => {
        if (!this.#connectedOnce) this.#shutDownReplacedHosts();
        this.#connectedOnce = true;
        this.#log.debug('cassandra store connected', { keyspace: this.#keyspace });
      },
      (error: unknown) => {
        this.#connecting = undefined;
        throw error;
      },
    );
    try {
      await this.#connecting;
    } catch (error) {
      throw this.#failure(what, error);
    }
    return this.#client;
  }

  /** An existing keyspace keeps its replication whatever is configured (the migration says IF NOT EXISTS); say so when they differ. */
  async #warnOfOtherReplication(client: Client): Promise<void> {
    let existing: Record<string, string> | undefined;
    try {
      const rs = await client.execute('SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?', [this.#keyspace], { prepare: true, isIdempotent: true });
      existing = rs.first()?.get('replication') as Record<string, string> | undefined;
    } catch (error) {
      throw this.#failure(`reading the replication of keyspace ${this.#keyspace}`, error);
    }
    if (existing === undefined) return;
    const warning = otherReplicationWarning(this.#keyspace, existing, this.#replication);
    if (warning !== undefined) this.#log.warn(warning);
  }

  /** The store's error for a failed request; one that can be retried means Cassandra is away. */
  #failure(what: string, error: unknown): TickstreamError {
    const failure = storeError(what, error);
    if (failure.canRetry) this.#away = true;
    return failure;
  }

  /** One partition's rows: a single statement, or an unlogged batch. */
  async #send(client: Client, rows: readonly Write[], options: WriteOptions): Promise<void> {
    if (rows.length === 1) {
      await client.execute(rows[0]!.query, rows[0]!.params, options.execute);
    } else if (rows.length > 1) {
      await client.batch(rows as Write[], options.batch);
    }
  }

  /** Reads page by page until `max` rows or the end. */
  async #select(client: Client, what: string, query: string, params: unknown[], max: number): Promise<CqlRow[]> {
    const out: CqlRow[] = [];
    const fetchSize = Math.max(1, Math.min(this.#pageSize, max));
    let pageState: string | undefined;
    try {
      do {
        const rs = await client.execute(query, params, { prepare: true, isIdempotent: true, fetchSize, ...(pageState === undefined ? {} : { pageState }) });
        for (const row of rs.rows) {
          if (out.length >= max) break;
          out.push(row as unknown as CqlRow);
        }
        pageState = rs.pageState ?? undefined;
      } while (pageState !== undefined && out.length < max);
    } catch (error) {
      throw this.#failure(what, error);
    }
    this.#away = false;
    return out;
  }

  /**
   * When its control connection cannot reuse a connection after an outage, cassandra-driver
   * 4.10 re-initialises and replaces each Host object with a new one without shutting the old
   * one down. The old host keeps a health timer and a pool that reconnects forever, so the
   * process could not exit after close(). The host map announces the replacement as a
   * 'remove'; shutting the removed host down there stops both (a second shutdown is a no-op).
   */
  #shutDownReplacedHosts(): void {
    // Host.shutdown exists but is marked internal, and is missing from the driver's .d.ts.
    this.#client.hosts.on('remove', (host: { shutdown?: () => Promise<void> }) => {
      void host.shutdown?.().catch((error: unknown) => this.#log.debug('shutting down a replaced Cassandra host failed', { error: String(error) }));
    });
  }

  #rememberDay(key: string): void {
    if (this.#knownDays.size >= MAX_KNOWN_DAYS) this.#knownDays.clear();
    this.#knownDays.add(key);
  }
}

function statements(ks: string): Statements {
  const insert = (table: string, columns: readonly string[], suffix = ''): string =>
    `INSERT INTO ${ks}.${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})${suffix}`;
  const barSelect = BAR_COLUMNS.filter((c) => c !== 'updated_at').join(', ');
  const tradeSelect = TRADE_COLUMNS.filter((c) => c !== 'day').join(', ');
  return {
    insertTrade: insert('trades', TRADE_COLUMNS),
    insertTradeDay: insert('trade_days', ['symbol', 'day']),
    insertBar: insert('bars', BAR_COLUMNS, ' USING TTL ?'),
    insertCheckpoint: insert('checkpoints', CHECKPOINT_COLUMNS),
    selectBars: `SELECT ${barSelect} FROM ${ks}.bars WHERE symbol = ? AND interval = ? AND window_start >= ? AND window_start < ? LIMIT ?`,
    // Against the clustering order, so oldest first. A (symbol, interval) is one partition for all
    // time, not one a day: a page forward never has to cross into another partition.
    selectBarsFrom: `SELECT ${barSelect} FROM ${ks}.bars WHERE symbol = ? AND interval = ? AND window_start >= ? ORDER BY window_start ASC LIMIT ?`,
    selectTradeDays: `SELECT day FROM ${ks}.trade_days WHERE symbol = ? AND day <= ? LIMIT ?`,
    selectTrades: `SELECT ${tradeSelect} FROM ${ks}.trades WHERE symbol = ? AND day = ? AND (ts, seq) < (?, ?) LIMIT ?`,
    selectTradeSymbols: `SELECT DISTINCT symbol FROM ${ks}.trade_days`,
    selectBarPartitions: `SELECT DISTINCT symbol, interval FROM ${ks}.bars`,
    selectCheckpoints: `SELECT partition, next_offset, state FROM ${ks}.checkpoints WHERE engine_id = ?`,
  };
}
