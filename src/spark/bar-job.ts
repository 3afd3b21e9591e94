import { join } from 'node:path';
import { TOPICS } from '../bus/topics.ts';
import { MAX_PRICE, MAX_TRADE_TS, MAX_VOLUME, MIN_TRADE_TS, SYMBOL_PATTERN, type Interval } from '../domain/index.ts';
import { SparkError } from '../errors.ts';
import type { DataFrame, DataStreamReader, DataStreamWriter } from './dataframe.ts';
import { alias, col, fn, lit, window } from './expressions.ts';
import type { ActiveQuery, StreamingQuery, StreamingQueryManager } from './streaming-query.ts';

/** What the bar job needs from a session (a SparkConnectClient gives all of it). */
export interface BarJobSession {
  readonly readStream: DataStreamReader;
  readonly streams: StreamingQueryManager;
}

/** The wire format of the topic's values (config `kafka.format`). */
export type BarJobWireFormat = 'avro' | 'json';

export interface BarJobOptions {
  /** `kafka.bootstrap.servers`: comma-separated host:port, as the executors reach Kafka. */
  readonly kafkaBootstrapServers: string;
  /** The trades topic, `market.trades`. */
  readonly topic: string;
  /** The topic between the bar aggregation and the bar writer (BAR_UPDATES_TOPIC). */
  readonly barsTopic: string;
  /** Where a query starts when it has no checkpoint yet: `earliest`, `latest` or Spark's per-partition JSON. */
  readonly startingOffsets?: string;
  readonly format: BarJobWireFormat;
  /** The Avro schema of a trade (the text of schemas/trade.avsc); the JSON format reads the same fields. */
  readonly tradeSchema: string;
  /** The Cassandra keyspace holding the tables of DESIGN.md "Storage". */
  readonly keyspace: string;
  readonly intervals: readonly Interval[];
  readonly latenessMs: number;
  /** The micro-batch trigger (the TS engine's flush interval plays this role). */
  readonly triggerMs: number;
  /** Each query checkpoints to `<checkpointRoot>/<query name>`; an absolute path the Spark driver and executors can write. */
  readonly checkpointRoot: string;
  /** TTL in seconds of the bar rows of an interval; 0 for none. */
  readonly barTtlSeconds?: (interval: string) => number;
  /** Most Kafka records one micro-batch reads; unbounded when absent. */
  readonly maxOffsetsPerTrigger?: number;
}

export type BarJobQueryKind = 'bars' | 'bars-store' | 'trades' | 'trade-days';

/** One streaming query of the job, defined but not started. */
export interface BarJobQuery {
  readonly name: string;
  readonly kind: BarJobQueryKind;
  /** The bar interval label, for kind `bars`. */
  readonly interval?: string;
  readonly checkpointLocation: string;
  readonly writer: DataStreamWriter;
}

export const QUERY_PREFIX = 'tickstream-';
export const BARS_STORE_QUERY = `${QUERY_PREFIX}bars-store`;
export const TRADES_QUERY = `${QUERY_PREFIX}trades`;
export const TRADE_DAYS_QUERY = `${QUERY_PREFIX}trade-days`;
export const barQueryName = (interval: string): string => `${QUERY_PREFIX}bars-${interval}`;

/** Whether a query name is one of the job's (what `tickstream spark status` and `stop` act on). */
export const isBarJobQuery = (name: string | null): boolean => name !== null && name.startsWith(QUERY_PREFIX);

/**
 * Where the bar queries publish every changed bar for the bar writer, by default; Spark's own, not
 * DESIGN.md's trade topics. A pipeline on another trades topic has its own (PipelineTopics.sparkBars).
 */
export const BAR_UPDATES_TOPIC = TOPICS.sparkBars;
export const CASSANDRA_FORMAT = 'org.apache.spark.sql.cassandra';
const DAY_MS = 86_400_000;

/** A Spark interval string for a number of milliseconds; Spark parses `N milliseconds` exactly. */
export const sparkDuration = (ms: number): string => `${Math.trunc(ms)} milliseconds`;

/**
 * The decoded trades: one row per Kafka record that is a valid trade, with the Kafka offset and
 * partition beside it. `event_time` is the trade's `ts` as a Spark timestamp (Avro's
 * timestamp-millis maps to it); `ts_ms` and `ingest_ts_ms` keep the epoch milliseconds.
 * A value that does not decode (null) or breaks the Trade contract is filtered out here:
 * the producer never writes one, and the TS engine sends such records to the dead-letter topic.
 */
export function decodedTrades(session: BarJobSession, o: BarJobOptions): DataFrame {
  const raw = kafkaReader(session, o, o.topic).load();
  const decoded =
    o.format === 'avro'
      ? // from_avro is not a SQL function in Spark 3.5; the Connect planner resolves it by name (2 or 3 arguments).
        raw.select(alias(fn('from_avro', col('value'), lit(o.tradeSchema), fn('map', lit('mode'), lit('PERMISSIVE'))), 'trade'), 'offset', 'partition')
      : raw.selectExpr(`from_json(CAST(value AS STRING), '${jsonSchemaDdl()}') AS trade`, '`offset`', 'partition');
  const ts = o.format === 'avro' ? 'trade.ts' : 'timestamp_millis(trade.ts)';
  const ingest = o.format === 'avro' ? 'trade.ingest_ts' : 'timestamp_millis(trade.ingest_ts)';
  return decoded
    .selectExpr(
      'trade.symbol AS symbol',
      'trade.price AS price',
      'trade.volume AS volume',
      `${ts} AS event_time`,
      'coalesce(trade.conditions, array()) AS conditions',
      'CAST(trade.source AS STRING) AS source',
      `${ingest} AS ingest_time`,
      '`offset`',
      'partition',
    )
    .selectExpr('*', 'unix_millis(event_time) AS ts_ms', 'unix_millis(ingest_time) AS ingest_ts_ms')
    .filter(TRADE_CONTRACT_SQL);
}

/** tradeViolation's rule as a Spark SQL condition over the decoded columns (Java's regex reads SYMBOL_PATTERN alike). */
export const TRADE_CONTRACT_SQL =
  `symbol IS NOT NULL AND symbol RLIKE '${SYMBOL_PATTERN.source}'` +
  ` AND price IS NOT NULL AND NOT isnan(price) AND price > 0 AND price <= ${MAX_PRICE}` +
  ` AND volume IS NOT NULL AND NOT isnan(volume) AND volume >= 0 AND volume <= ${MAX_VOLUME}` +
  ` AND event_time IS NOT NULL AND ts_ms >= ${MIN_TRADE_TS} AND ts_ms < ${MAX_TRADE_TS} AND ingest_time IS NOT NULL`;

function kafkaReader(session: BarJobSession, o: BarJobOptions, topic: string): DataStreamReader {
  const reader = session.readStream.format('kafka').options({
    'kafka.bootstrap.servers': o.kafkaBootstrapServers,
    subscribe: topic,
    startingOffsets: o.startingOffsets ?? 'earliest',
  });
  return o.maxOffsetsPerTrigger === undefined ? reader : reader.option('maxOffsetsPerTrigger', o.maxOffsetsPerTrigger);
}

/** The JSON wire format's fields, as the TS codec writes them (times as epoch ms). */
function jsonSchemaDdl(): string {
  return 'symbol STRING, price DOUBLE, volume DOUBLE, ts BIGINT, conditions ARRAY<STRING>, source STRING, ingest_ts BIGINT';
}

/** The columns of a bar as stage 1 publishes it and stage 2 stores it: the `bars` table's, times in epoch ms. */
const BAR_UPDATE_DDL =
  'symbol STRING, `interval` STRING, window_start BIGINT, window_end BIGINT, open DOUBLE, high DOUBLE, low DOUBLE, close DOUBLE,' +
  ' volume DOUBLE, vwap DOUBLE, avg_price DOUBLE, trade_count BIGINT, updated_at BIGINT, ttl INT';

/**
 * The sums of a window as the TS engine makes them (`addTrade`): starting from 0, one trade at
 * a time in Kafka offset order. Spark's own sum() adds per micro-batch partial sums to the state,
 * so a window spread over several batches came out different in the last bits: floating-point
 * addition is not associative. Here the window keeps its (offset, price, volume) triples,
 * array_sort orders them by offset (the struct's first field), and aggregate() folds them left
 * with the TS engine's very operations; Java doubles are IEEE 754 binary64 like JS numbers, so
 * the same operations in the same order give the same bits.
 */
const SUMS_IN_OFFSET_ORDER =
  'aggregate(array_sort(trades),' +
  " named_struct('volume', 0D, 'price_volume', 0D, 'price_sum', 0D)," +
  " (acc, t) -> named_struct('volume', acc.volume + t.volume, 'price_volume', acc.price_volume + t.price * t.volume, 'price_sum', acc.price_sum + t.price))";

/**
 * The bars of one interval (DESIGN.md "Bars"), one row per bar changed in the micro-batch.
 * open/close are the prices of the first/last trade by (ts, Kafka offset): min_by/max_by over
 * the struct compare ts first, then the offset. All trades of a symbol are in one Kafka
 * partition, so that is exactly the TS engine's (ts, log offset) order, and offset order is
 * the order in which it adds a window's trades up (SUMS_IN_OFFSET_ORDER). The state holds the
 * trades of the open windows only: the watermark evicts a window with its list. `updated_at`
 * is the micro-batch's time, which Spark keeps in its offset log, so a replayed batch repeats it.
 */
export function barsOf(trades: DataFrame, interval: Interval, latenessMs: number, ttlSeconds = 0): DataFrame {
  return trades
    .withWatermark('event_time', sparkDuration(latenessMs))
    .groupBy('symbol', window('event_time', sparkDuration(interval.ms)))
    .agg(
      'min_by(price, struct(event_time, `offset`)) AS open',
      'max(price) AS high',
      'min(price) AS low',
      'max_by(price, struct(event_time, `offset`)) AS close',
      'collect_list(struct(`offset`, price, volume)) AS trades',
      'count(1) AS trade_count',
    )
    .selectExpr('symbol', 'window', 'open', 'high', 'low', 'close', `${SUMS_IN_OFFSET_ORDER} AS sums`, 'trade_count')
    .selectExpr(
      'symbol',
      `'${interval.label}' AS \`interval\``,
      'unix_millis(window.start) AS window_start',
      'unix_millis(window.end) AS window_end',
      'open',
      'high',
      'low',
      'close',
      'sums.volume AS volume',
      'CASE WHEN sums.volume = 0 THEN NULL ELSE sums.price_volume / sums.volume END AS vwap',
      'sums.price_sum / trade_count AS avg_price',
      'trade_count',
      'unix_millis(current_timestamp()) AS updated_at',
      `${Math.max(0, Math.trunc(ttlSeconds))} AS ttl`,
    );
}

/**
 * Stage 1 → Kafka: a record per changed bar, keyed by (symbol, interval, window_start) so that
 * every version of a bar lands in one partition, in the order the versions were made.
 */
export function barUpdateRecordsOf(bars: DataFrame): DataFrame {
  return bars.selectExpr(
    "concat_ws('|', symbol, `interval`, CAST(window_start AS STRING)) AS key",
    'to_json(struct(*)) AS value',
  );
}

/**
 * Stage 2: the bar versions read back from Kafka as rows of the `bars` table. Each row is
 * written with its bar's `updated_at` as the Cassandra write time (`write_time`, µs) and its
 * interval's TTL (`ttl`), so an older version read late can never overwrite a newer one, and a
 * version written twice changes nothing.
 */
export function storedBarsOf(session: BarJobSession, o: BarJobOptions): DataFrame {
  return kafkaReader(session, o, o.barsTopic)
    .load()
    .selectExpr(`from_json(CAST(value AS STRING), '${BAR_UPDATE_DDL}') AS bar`)
    .filter('bar IS NOT NULL AND bar.symbol IS NOT NULL AND bar.window_start IS NOT NULL AND bar.updated_at IS NOT NULL')
    .selectExpr(
      'bar.symbol AS symbol',
      'bar.`interval` AS `interval`',
      'bar.window_start AS window_start',
      'bar.window_end AS window_end',
      'bar.open AS open',
      'bar.high AS high',
      'bar.low AS low',
      'bar.close AS close',
      'bar.volume AS volume',
      'bar.vwap AS vwap',
      'bar.avg_price AS avg_price',
      'bar.trade_count AS trade_count',
      'timestamp_millis(bar.updated_at) AS updated_at',
      'bar.updated_at * 1000 AS write_time',
      'coalesce(bar.ttl, 0) AS ttl',
    );
}

/** Rows of the Cassandra `trades` table: `day` is the UTC date of ts, `seq` the Kafka offset. */
export function tradeRowsOf(trades: DataFrame): DataFrame {
  return trades.selectExpr(
    'symbol',
    `date_from_unix_date(CAST(ts_ms div ${DAY_MS} AS INT)) AS \`day\``,
    'ts_ms AS ts',
    '`offset` AS seq',
    'price',
    'volume',
    'conditions',
    'source',
    'ingest_ts_ms AS ingest_ts',
  );
}

/**
 * Rows of `trade_days` (the days on which a symbol has trades, which the store's "latest
 * trades" read lists): one upsert per trade. Collapsing them needs a stateful operator, and
 * the Cassandra sink takes only append mode (see README), which would hold a day back until
 * it closed.
 */
export function tradeDaysOf(trades: DataFrame): DataFrame {
  return trades.selectExpr('symbol', `date_from_unix_date(CAST(ts_ms div ${DAY_MS} AS INT)) AS \`day\``);
}

function cassandraWriter(df: DataFrame, o: BarJobOptions, name: string, table: string, extra: Readonly<Record<string, string>> = {}): DataStreamWriter {
  return df.writeStream
    .format(CASSANDRA_FORMAT)
    .options({ keyspace: o.keyspace, table, checkpointLocation: join(o.checkpointRoot, name), ...extra })
    .outputMode('append')
    .trigger({ processingTime: sparkDuration(o.triggerMs) })
    .queryName(name);
}

/**
 * The job's streaming queries, defined but not started:
 * - one `bars` query per interval: the aggregation in update mode, each changed bar to the
 *   bar-updates topic (the Cassandra sink refuses update mode; Kafka's takes it);
 * - `bars-store`: the bar-updates topic → Cassandra `bars`, append, newest version wins;
 * - `trades` and `trade-days`: the raw trades → Cassandra `trades` and `trade_days`, append.
 * Each reads Kafka on its own and keeps its own checkpoint (and the bar queries their own watermark).
 */
export function defineBarJob(session: BarJobSession, o: BarJobOptions): BarJobQuery[] {
  if (o.intervals.length === 0) throw new SparkError('the bar job needs at least one interval');
  if (!(o.triggerMs > 0)) throw new SparkError(`the bar job's trigger must be a positive number of milliseconds, got ${o.triggerMs}`);
  const trades = decodedTrades(session, o);
  const trigger = { processingTime: sparkDuration(o.triggerMs) };
  const queries: BarJobQuery[] = o.intervals.map((interval) => {
    const name = barQueryName(interval.label);
    const bars = barsOf(trades, interval, o.latenessMs, o.barTtlSeconds?.(interval.label) ?? 0);
    const writer = barUpdateRecordsOf(bars)
      .writeStream.format('kafka')
      .options({ 'kafka.bootstrap.servers': o.kafkaBootstrapServers, topic: o.barsTopic, checkpointLocation: join(o.checkpointRoot, name) })
      .outputMode('update')
      .trigger(trigger)
      .queryName(name);
    return { name, kind: 'bars', interval: interval.label, checkpointLocation: join(o.checkpointRoot, name), writer };
  });
  const rest: [string, BarJobQueryKind, DataStreamWriter][] = [
    [BARS_STORE_QUERY, 'bars-store', cassandraWriter(storedBarsOf(session, o), o, BARS_STORE_QUERY, 'bars', { writetime: 'write_time', ttl: 'ttl' })],
    [TRADES_QUERY, 'trades', cassandraWriter(tradeRowsOf(trades), o, TRADES_QUERY, 'trades')],
    [TRADE_DAYS_QUERY, 'trade-days', cassandraWriter(tradeDaysOf(trades), o, TRADE_DAYS_QUERY, 'trade_days')],
  ];
  for (const [name, kind, writer] of rest) queries.push({ name, kind, checkpointLocation: join(o.checkpointRoot, name), writer });
  return queries;
}

/**
 * Starts every query of the job that is not already active in this session and attaches to
 * those that are (by query name: a start is never sent twice). Returns the handles in the
 * order of defineBarJob; each holds the session alive until it is stopped or detached.
 */
export async function startBarJob(session: BarJobSession, o: BarJobOptions, schemaWaitMs = 30_000): Promise<StreamingQuery[]> {
  const started: StreamingQuery[] = [];
  const deadline = Date.now() + schemaWaitMs;
  try {
    for (const q of defineBarJob(session, o)) started.push(await startOnceSchemaSeen(q.writer, deadline));
  } catch (error) {
    // Leave the ones already running to the session; only let go of their keep-alive.
    for (const q of started) q.detach();
    throw error;
  }
  return started;
}

/**
 * The Cassandra connector resolves a table through its own driver session, which learns of a
 * keyspace created a moment ago (by the migrations) only after a schema refresh. The server
 * refuses such a start while analysing it, so nothing runs and starting again is safe. The
 * connector words it by what it found nearby: "Couldn't find <ks> or any similarly named
 * keyspaces", "Couldn't find <ks>.<table> or any similarly named keyspace and table pairs",
 * "Couldn't find table <table> in <ks> - ..." or "Couldn't find table <table> or keyspace <ks> - ...".
 */
const SCHEMA_NOT_SEEN = /Couldn't find (keyspace |table |\S+ or any similarly named keyspace)/;

async function startOnceSchemaSeen(writer: DataStreamWriter, deadline: number): Promise<StreamingQuery> {
  for (;;) {
    try {
      return await writer.start();
    } catch (error) {
      if (!(error instanceof SparkError) || !SCHEMA_NOT_SEEN.test(error.message) || Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** The job's queries active in this session. */
export async function activeBarJobQueries(session: BarJobSession): Promise<ActiveQuery[]> {
  return (await session.streams.active()).filter((q) => isBarJobQuery(q.name));
}

/** Stops every query of the job active in this session; returns their names. */
export async function stopBarJob(session: BarJobSession): Promise<string[]> {
  const stopped: string[] = [];
  for (const q of await activeBarJobQueries(session)) {
    const handle = await session.streams.get(q.id);
    if (handle === null) continue;
    await handle.stop();
    stopped.push(q.name ?? q.id);
  }
  return stopped;
}
