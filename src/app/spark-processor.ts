import type { SparkQueryProgressSample } from '../server/index.ts';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { KafkaConsole, KafkaSideLog, pipelineTopics, TRADE_SCHEMA_URL, type SideLog } from '../bus/index.ts';
import type { Config } from '../config/index.ts';
import { smallestInterval, type TradeRecord } from '../domain/index.ts';
import { ConfigError } from '../errors.ts';
import { OutageLog, silentLogger, type Logger, type PipelineStats } from '../observability/index.ts';
import { ensureTopics } from './start-checks.ts';
import {
  activeBarJobQueries,
  barQueryName,
  BARS_STORE_QUERY,
  SparkConnectClient,
  startBarJob,
  stopBarJob,
  TRADES_QUERY,
  type BarJobOptions,
  type StreamingQuery,
  type StreamingQueryProgress,
} from '../spark/index.ts';
import { barTtlSeconds, openCassandraStore } from '../store/index.ts';
import type { LateEntry } from './processor.ts';
import { SparkLateTap, type LateReplayReport, type OffsetRange, type RangeRecord } from './spark-late-tap.ts';
import { sparkLogLag } from './spark-log-lag.ts';

/** The bar job's settings from the config: the micro-batch trigger is `flushInterval`, the TS engine's flush period. */
export function sparkBarJobOptions(config: Config, overrides: Partial<BarJobOptions> = {}): BarJobOptions {
  return {
    kafkaBootstrapServers: config.kafka.brokers.join(','),
    topic: config.kafka.topic,
    barsTopic: pipelineTopics(config.kafka.topic).sparkBars,
    startingOffsets: 'earliest',
    format: config.kafka.format,
    tradeSchema: readFileSync(TRADE_SCHEMA_URL, 'utf8'),
    keyspace: config.cassandra.keyspace,
    intervals: config.intervals,
    latenessMs: config.lateness,
    triggerMs: config.flushInterval,
    checkpointRoot: join(resolve(config.dataDir), 'spark', 'checkpoints'),
    barTtlSeconds,
    ...(config.spark.maxOffsetsPerTrigger > 0 ? { maxOffsetsPerTrigger: config.spark.maxOffsetsPerTrigger } : {}),
    ...overrides,
  };
}

/** Where a process keeps its Spark Connect session id, so a restart (or `tickstream spark status`) joins the same session. */
export const sparkSessionIdFile = (config: Config): string => join(resolve(config.dataDir), 'spark', 'session-id');

export interface SparkConnection {
  /** Spark Connect URL; default `spark.connectUrl` of the config. */
  readonly url?: string;
  /** Default `<dataDir>/spark/session-id`. */
  readonly sessionIdFile?: string;
  readonly logger?: Logger;
}

export interface SparkProcessorOptions extends SparkConnection {
  readonly stats?: PipelineStats;
  /** How often progress is logged and failed queries are started again; default `statusInterval` (5 s when that is 0). */
  readonly statusIntervalMs?: number;
  /**
   * What close() does with the queries: stop them (false, the default: the process role owns
   * the job, as the TS engine owns its consumer), or leave them running on the server and only
   * let go of them (true). Left running, they last while the session lives: a Spark 3.5 session
   * with no calls for an hour ends and takes its queries with it; a process started again with
   * the same data dir joins the session and attaches to them.
   */
  readonly detachOnClose?: boolean;
  /** Changes to the job's settings (tests: their own topics and keyspace). */
  readonly job?: Partial<BarJobOptions>;
  /** Where the late trades go; default the `<kafka.topic>.late` topic (`market.trades.late`). */
  readonly late?: SideLog<LateEntry>;
}

/** Where a process keeps the last Spark micro-batch whose late trades it replayed. */
export const sparkLateStateFile = (config: Config): string => join(resolve(config.dataDir), 'spark', 'late-replay.json');

/** One query of the job as `tickstream spark status` shows it. */
export interface SparkQueryReport {
  readonly name: string;
  readonly id: string;
  readonly active: boolean;
  readonly batchId?: number;
  /** Rows read by the last micro-batch. */
  readonly numInputRows?: number;
  readonly inputRowsPerSecond?: number;
  readonly processedRowsPerSecond?: number;
  readonly batchDurationMs?: number;
  /** ISO-8601, for the queries with a watermark (the bar aggregations). */
  readonly watermark?: string;
  /** The error that ended the query. */
  readonly exception?: string;
}

function connect(config: Config, c: SparkConnection): SparkConnectClient {
  return new SparkConnectClient({
    url: c.url ?? config.spark.connectUrl,
    sessionIdFile: c.sessionIdFile ?? sparkSessionIdFile(config),
    logger: c.logger ?? silentLogger,
  });
}

async function reportOf(query: StreamingQuery): Promise<SparkQueryReport> {
  const [status, progress] = await Promise.all([query.status(), query.lastProgress()]);
  const exception = status.isActive ? null : await query.exception();
  return {
    name: query.name ?? query.id,
    id: query.id,
    active: status.isActive,
    ...progressFields(progress),
    ...(exception === null ? {} : { exception: exception.message.split('\n')[0] ?? exception.message }),
  };
}

/** One query's progress as `/api/stats` carries it under `spark.queries` (snake_case, as the rest of the stats). */
export interface SparkQueryStatsWire {
  readonly name: string;
  readonly active: boolean;
  readonly batch_id: number | null;
  readonly input_rows_per_s: number | null;
  readonly processed_rows_per_s: number | null;
  readonly batch_duration_ms: number | null;
  /** ISO-8601; null for the queries without a watermark (raw trades, the bar writer). */
  readonly watermark: string | null;
  readonly exception: string | null;
}

/** What a process running the Spark engine adds to `/api/stats`; nothing when it has no Spark job. */
export function sparkStats(
  reports: readonly SparkQueryReport[] | undefined,
  lateReplay?: LateReplayReport,
): { spark?: { queries: SparkQueryStatsWire[]; late_replay?: LateReplayReport } } {
  if (reports === undefined) return {};
  return {
    spark: {
      queries: reports.map((r) => ({
        name: r.name,
        active: r.active,
        batch_id: r.batchId ?? null,
        input_rows_per_s: r.inputRowsPerSecond ?? null,
        processed_rows_per_s: r.processedRowsPerSecond ?? null,
        batch_duration_ms: r.batchDurationMs ?? null,
        watermark: r.watermark ?? null,
        exception: r.exception ?? null,
      })),
      ...(lateReplay === undefined ? {} : { late_replay: lateReplay }),
    },
  };
}

function progressFields(p: StreamingQueryProgress | null): Partial<SparkQueryReport> {
  if (p === null) return {};
  const watermark = p.eventTime['watermark'];
  return {
    batchId: p.batchId,
    numInputRows: p.numInputRows,
    ...(p.inputRowsPerSecond === undefined ? {} : { inputRowsPerSecond: p.inputRowsPerSecond }),
    ...(p.processedRowsPerSecond === undefined ? {} : { processedRowsPerSecond: p.processedRowsPerSecond }),
    ...(p.batchDurationMs === undefined ? {} : { batchDurationMs: p.batchDurationMs }),
    ...(watermark === undefined ? {} : { watermark }),
  };
}

/**
 * Adds the micro-batches of one query to the pipeline counters: the trades query's rows are
 * trades processed and stored, the bars-store query's rows are bars stored. (Late trades are
 * counted by the SparkLateTap, which finds them.)
 */
export function countSparkBatches(stats: PipelineStats, name: string, batches: readonly StreamingQueryProgress[]): void {
  let rows = 0;
  for (const p of batches) rows += p.numInputRows;
  if (name === TRADES_QUERY && rows > 0) {
    stats.processed += rows;
    stats.tradesStored += rows;
    stats.processedRate.mark(rows, Date.now());
  } else if (name === BARS_STORE_QUERY && rows > 0) {
    stats.barsStored += rows;
    stats.barsRate.mark(rows, Date.now());
  }
}

/**
 * The process role with `engine: spark`: makes sure the keyspace's tables and the topics exist,
 * starts the bar job on the Spark Connect server (attaching to the queries already running in
 * this data dir's session), logs each query's progress every status interval, starts a query
 * that failed again from its checkpoint, and stops the job on close() (see detachOnClose).
 */
export class SparkProcessor {
  readonly #config: Config;
  readonly #options: SparkProcessorOptions;
  readonly #log: Logger;
  readonly #job: BarJobOptions;
  /** The bar query of the smallest interval, whose dropped rows are the late trades. */
  readonly #lateQuery: string | undefined;
  readonly #lateIntervalMs: number;
  #lateTap: SparkLateTap | undefined;
  #lateLog: SideLog<LateEntry> | undefined;
  #reader: KafkaConsole | undefined;
  readonly #lagOutage: OutageLog;
  readonly #lastBatch = new Map<string, number>();
  /** The query runs (`name/runId`) already reported as stopped from elsewhere: said once, not at every check. */
  readonly #stoppedElsewhere = new Set<string>();
  #latest: SparkQueryReport[] = [];
  #client: SparkConnectClient | undefined;
  #queries: StreamingQuery[] = [];
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> = Promise.resolve();
  #closing: Promise<void> | undefined;

  constructor(config: Config, options: SparkProcessorOptions = {}) {
    if (config.profile !== 'cluster') {
      throw new ConfigError('engine', config.engine, 'ts in the embedded profile: the Spark engine reads Kafka and writes Cassandra (use --profile cluster)');
    }
    this.#config = config;
    this.#options = options;
    this.#log = options.logger ?? silentLogger;
    this.#lagOutage = new OutageLog(this.#log, 'reading the log end of the trades topic for the log lag');
    this.#job = sparkBarJobOptions(config, options.job);
    const smallest = smallestInterval(this.#job.intervals);
    this.#lateQuery = smallest === undefined ? undefined : barQueryName(smallest.label);
    this.#lateIntervalMs = smallest?.ms ?? 0;
  }

  /** How the late-trade replay has gone. */
  get lateReplay(): LateReplayReport {
    return this.#lateTap?.report() ?? { unreplayed: 0, mismatches: 0, unseen: 0 };
  }

  get job(): BarJobOptions {
    return this.#job;
  }

  /** The handles of the running job (empty before start and after close). */
  get queries(): readonly StreamingQuery[] {
    return this.#queries;
  }

  async start(): Promise<void> {
    // Unknown until the trades query has finished a micro-batch: 0 would say it is caught up.
    if (this.#options.stats !== undefined) this.#options.stats.logLag = null;
    await this.#prepare();
    this.#lateTap = this.#openLateTap();
    this.#client = connect(this.#config, { ...this.#options, logger: this.#log });
    this.#queries = await startBarJob(this.#client, this.#job);
    this.#log.info('spark job running', {
      queries: this.#queries.map((q) => q.name).join(','),
      trigger_ms: this.#job.triggerMs,
      session: this.#client.sessionId,
    });
    const every = this.#options.statusIntervalMs ?? (this.#config.statusInterval > 0 ? this.#config.statusInterval : 5_000);
    this.#timer = setInterval(() => {
      this.#ticking = this.#ticking.then(() => this.#tick()).catch((error: unknown) => {
        this.#log.warn('spark progress check failed', { error: error instanceof Error ? error.message : String(error) });
      });
    }, every);
    this.#timer.unref();
  }

  /** Every query of the job with its last progress. */
  async progress(): Promise<SparkQueryReport[]> {
    return Promise.all(this.#queries.map(reportOf));
  }

  /**
   * The progress as of the last status check (every status interval), without a call to the
   * server: what `/api/stats` shows, which must answer synchronously. Empty before the first check.
   */
  latestProgress(): readonly SparkQueryReport[] {
    return this.#latest;
  }

  /** The tables (migrations) and the topics the job reads and writes. */
  async #prepare(): Promise<void> {
    const { contactPoints, localDataCenter, replication, concurrency } = this.#config.cassandra;
    const store = openCassandraStore({ contactPoints, localDataCenter, keyspace: this.#job.keyspace, replication, concurrency, logger: this.#log });
    try {
      const migrated = await store.migrate();
      if (migrated.applied.length > 0) this.#log.info('store migrated', { applied: migrated.applied.join(','), keyspace: this.#job.keyspace });
    } finally {
      await store.close();
    }
    const kafka = this.#config.kafka;
    const connection = { brokers: kafka.brokers, clientId: kafka.clientId };
    if (this.#job.topic === kafka.topic) await ensureTopics(this.#config);
    const kafkaConsole = new KafkaConsole({ ...connection, logger: this.#log });
    try {
      const created = await kafkaConsole.createTopic({
        name: this.#job.barsTopic,
        partitions: kafka.topicPartitions,
        config: { 'retention.ms': String(kafka.retention) },
      });
      if (created !== undefined) this.#log.info('topic created', { topic: this.#job.barsTopic });
    } finally {
      await kafkaConsole.close();
    }
  }

  /** The replay of the trades the smallest interval's query drops (see SparkLateTap). */
  #openLateTap(): SparkLateTap {
    const kafka = this.#config.kafka;
    const connection = { brokers: kafka.brokers, clientId: kafka.clientId, logger: this.#log };
    const reader = new KafkaConsole({ ...connection, tradeTopics: [this.#job.topic] });
    this.#reader = reader;
    this.#lateLog = this.#options.late ?? new KafkaSideLog<LateEntry>({ ...connection, topic: pipelineTopics(kafka.topic).late });
    return new SparkLateTap({
      intervalMs: this.#lateIntervalMs,
      read: (range) => rangeRecords(reader, range),
      late: this.#lateLog,
      stateFile: sparkLateStateFile(this.#config),
      ...(this.#options.stats === undefined ? {} : { stats: this.#options.stats }),
      logger: this.#log,
    });
  }

  async #tick(): Promise<void> {
    if (this.#client === undefined || this.#closing !== undefined) return;
    let failed = false;
    const reports: SparkQueryReport[] = [];
    // The trades query's last progress (null: none yet); undefined when the job has no trades query.
    let tradesLast: StreamingQueryProgress | null | undefined;
    for (const query of this.#queries) {
      const recent = await query.recentProgress();
      const last = recent.at(-1) ?? null;
      if (query.name === TRADES_QUERY) tradesLast = last;
      this.#count(query, recent);
      if (query.name === this.#lateQuery) await this.#replayLate(query.id, recent);
      const status = await query.status();
      const f = progressFields(last);
      const report: SparkQueryReport = { name: query.name ?? query.id, id: query.id, active: status.isActive, ...f };
      reports.push(report);
      this.#log.info('spark progress', {
        query: query.name ?? query.id,
        batch: f.batchId,
        rows_per_s: f.inputRowsPerSecond === undefined ? undefined : Math.round(f.inputRowsPerSecond),
        batch_ms: f.batchDurationMs,
        watermark: f.watermark,
        active: status.isActive,
      });
      if (status.isActive) continue;
      const exception = await query.exception();
      if (exception === null) {
        const run = `${query.name ?? query.id}/${query.runId}`;
        if (!this.#stoppedElsewhere.has(run)) {
          this.#stoppedElsewhere.add(run);
          this.#log.warn('spark query stopped from elsewhere; not restarting it: no new bars from it until this process starts again', { query: query.name ?? query.id });
        }
      } else {
        failed = true;
        reports[reports.length - 1] = { ...report, exception: exception.message.split('\n')[0] ?? exception.message };
        this.#log.error('spark query failed', { query: query.name ?? query.id, error: exception.message.split('\n')[0] });
      }
    }
    this.#latest = reports;
    if (tradesLast !== undefined) await this.#measureLag(tradesLast);
    if (this.#options.stats !== undefined && reports.length > 0 && reports.every((r) => !r.active) && !failed) {
      // A stop is an operator's choice (`tickstream spark stop`), so the queries are not restarted; but the process must not look healthy.
      this.#options.stats.engineStopped = 'the Spark queries were stopped from elsewhere (tickstream spark stop); start this process again to restart them';
    }
    if (failed && this.#closing === undefined) {
      for (const q of this.#queries) q.detach();
      // Attaches to the queries still running and starts the failed ones from their checkpoints.
      this.#queries = await startBarJob(this.#client, this.#job);
      this.#log.info('spark job restarted', { queries: this.#queries.map((q) => q.name).join(',') });
    }
  }

  /**
   * Sets the log lag from the trades query's last progress (also once the query has stopped:
   * what it left unread is still lag). Without a progress, or while Kafka does not answer, the
   * lag is unknown; a failure is logged as an outage and never ends the check.
   */
  async #measureLag(progress: StreamingQueryProgress | null): Promise<void> {
    const stats = this.#options.stats;
    const reader = this.#reader;
    if (stats === undefined || reader === undefined) return;
    if (progress === null) {
      stats.logLag = null;
      return;
    }
    try {
      const log = await reader.logBounds(this.#job.topic);
      stats.logLag = log === undefined ? null : sparkLogLag(progress, this.#job.topic, log);
      this.#lagOutage.succeeded();
    } catch (error) {
      stats.logLag = null;
      this.#lagOutage.failed(error);
    }
  }

  /** The late query's batches since the last check, so that no later process finds them gone from its progress. */
  async #lastLateLook(): Promise<void> {
    const query = this.#queries.find((q) => q.name === this.#lateQuery);
    if (query === undefined) return;
    try {
      await this.#replayLate(query.id, await query.recentProgress());
    } catch (error) {
      this.#log.warn('last look for late trades failed', { error: error instanceof Error ? error.message : String(error) });
    }
  }

  /** A failed replay (Kafka away) is tried again at the next check; it holds up nothing else. */
  async #replayLate(queryId: string, recent: readonly StreamingQueryProgress[]): Promise<void> {
    try {
      await this.#lateTap?.observe(queryId, recent);
    } catch (error) {
      this.#log.warn('late trade replay failed; retrying at the next check', { error: error instanceof Error ? error.message : String(error) });
    }
  }

  /** Folds the batches finished since the last look into the pipeline counters. */
  #count(query: StreamingQuery, recent: readonly StreamingQueryProgress[]): void {
    const name = query.name ?? query.id;
    const seen = this.#lastBatch.get(`${name}/${query.runId}`) ?? -1;
    const newest = recent.at(-1)?.batchId;
    if (newest !== undefined) this.#lastBatch.set(`${name}/${query.runId}`, Math.max(seen, newest));
    const stats = this.#options.stats;
    if (stats !== undefined) countSparkBatches(stats, name, recent.filter((p) => p.batchId > seen));
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#ticking;
    const client = this.#client;
    if (client === undefined) return;
    try {
      if (this.#options.detachOnClose === true) {
        await this.#lastLateLook();
        for (const q of this.#queries) q.detach();
        this.#log.info('spark job left running', { queries: this.#queries.length, session: client.sessionId });
      } else {
        for (const q of this.#queries) {
          await q.stop().catch((error: unknown) => {
            this.#log.warn('stopping a spark query failed', { query: q.name ?? q.id, error: error instanceof Error ? error.message : String(error) });
          });
        }
        await this.#lastLateLook();
      }
    } finally {
      this.#queries = [];
      this.#latest = [];
      client.close();
      // The late log is closed only if this processor opened it.
      if (this.#options.late === undefined) await this.#lateLog?.close();
      await this.#reader?.close();
    }
  }
}

/** A range of the job's topic as the late tap reads it: records with the trades they decode to. */
async function* rangeRecords(reader: KafkaConsole, range: OffsetRange): AsyncGenerator<RangeRecord[]> {
  for await (const messages of reader.range(range.topic, range.partition, range.from, range.to)) {
    yield messages.map((m) => ({ partition: m.partition, offset: m.offset, trade: isTradeRecord(m.value) ? m.value : undefined }));
  }
}

function isTradeRecord(v: unknown): v is TradeRecord {
  const r = v as Partial<TradeRecord> | null;
  return typeof r === 'object' && r !== null && typeof r.symbol === 'string' && typeof r.ts === 'number' && Number.isFinite(r.ts);
}

/** Starts the Spark engine of the process role; close() it on shutdown. */
export async function startSparkProcessor(config: Config, options: SparkProcessorOptions = {}): Promise<SparkProcessor> {
  const processor = new SparkProcessor(config, options);
  try {
    await processor.start();
  } catch (error) {
    await processor.close().catch(() => {});
    throw error;
  }
  return processor;
}

/** The job's queries active in this data dir's session, with their last progress (`tickstream spark status`). */
export async function sparkJobStatus(config: Config, connection: SparkConnection = {}): Promise<SparkQueryReport[]> {
  const client = connect(config, connection);
  try {
    const reports: SparkQueryReport[] = [];
    for (const q of await activeBarJobQueries(client)) {
      const handle = await client.streams.get(q.id);
      if (handle !== null) reports.push(await reportOf(handle));
    }
    return reports;
  } finally {
    client.close();
  }
}

/** Stops the job's queries in this data dir's session; returns their names (`tickstream spark stop`). */
export async function stopSparkJob(config: Config, connection: SparkConnection = {}): Promise<string[]> {
  const client = connect(config, connection);
  try {
    return await stopBarJob(client);
  } finally {
    client.close();
  }
}

/** The queries' last progress as the metrics endpoint reads it. */
export function sparkProgressSamples(reports: readonly SparkQueryReport[] | undefined): SparkQueryProgressSample[] {
  // A query that has not finished a micro-batch yet has no progress to show.
  return (reports ?? []).flatMap((r) => (r.batchId === undefined || r.numInputRows === undefined ? [] : [{
    query: r.name,
    batchId: r.batchId,
    numInputRows: r.numInputRows,
    ...(r.batchDurationMs === undefined ? {} : { batchDurationMs: r.batchDurationMs }),
    ...(r.inputRowsPerSecond === undefined ? {} : { inputRowsPerSecond: r.inputRowsPerSecond }),
    ...(r.processedRowsPerSecond === undefined ? {} : { processedRowsPerSecond: r.processedRowsPerSecond }),
  }]));
}
