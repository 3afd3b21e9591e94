import { Counter, Gauge, Registry } from 'prom-client';
import { engineWaitingSince, type PipelineStats } from '../observability/index.ts';
import type { SourceStatus } from '../source/source.ts';
import { registerLatencyHistogram, registerLatencySummary } from './metrics-histogram.ts';

/** The last progress of one Spark streaming query, as the Spark processor last saw it. */
export interface SparkQueryProgressSample {
  /** The query's name, or its id when it has none. */
  readonly query: string;
  readonly batchId: number;
  readonly numInputRows: number;
  readonly batchDurationMs?: number;
  readonly inputRowsPerSecond?: number;
  readonly processedRowsPerSecond?: number;
}

export interface MetricsSources {
  readonly stats: PipelineStats;
  readonly sourceStatus: () => SourceStatus;
  readonly streamClients: () => number;
  /** Consumer lag per log partition (records not yet read); absent where the role consumes nothing. */
  readonly partitionLag?: () => Iterable<readonly [partition: number, lag: number]>;
  /** Progress of the Spark bar job's queries; absent unless the processor runs the Spark engine. */
  readonly sparkProgress?: () => readonly SparkQueryProgressSample[];
}

/** Bucket upper bounds in seconds: the flush interval is 1 s by default, 10 ms when benchmarked. */
const END_TO_END_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 30, 60];
const DURATION_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type CounterField = 'received' | 'invalid' | 'late' | 'produced' | 'processed' | 'tradesStored' | 'barsStored' | 'flushes' | 'storeErrors' | 'reconnects' | 'unknownMessages';

const COUNTERS: readonly [string, CounterField, string][] = [
  ['tickstream_trades_received_total', 'received', 'Valid trades received from the source.'],
  ['tickstream_trades_invalid_total', 'invalid', 'Invalid frames and trades, dead-lettered.'],
  ['tickstream_trades_late_total', 'late', 'Trades behind the watermark, set aside.'],
  ['tickstream_trades_produced_total', 'produced', 'Trades appended to the log.'],
  ['tickstream_trades_processed_total', 'processed', 'Trades processed by the engine.'],
  ['tickstream_trades_stored_total', 'tradesStored', 'Trades written to the store.'],
  ['tickstream_bars_stored_total', 'barsStored', 'Bar versions written to the store.'],
  ['tickstream_flushes_total', 'flushes', 'Engine flushes written to the store.'],
  ['tickstream_store_errors_total', 'storeErrors', 'Failed store writes (each retried).'],
  ['tickstream_source_reconnects_total', 'reconnects', 'Reconnects to the trade source.'],
  ['tickstream_unknown_messages_total', 'unknownMessages', 'Source messages of an unknown type.'],
];

/**
 * Prometheus metrics on a private registry (never the global one, so two servers in one
 * process do not collide). Every value is read from PipelineStats when scraped.
 */
export function createMetrics(sources: MetricsSources): Registry {
  const registry = new Registry();
  const { stats } = sources;
  for (const [name, field, help] of COUNTERS) {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(stats[field]);
      },
    });
  }
  /** null leaves the gauge without a sample: a value not known is not reported as 0. */
  const gauge = (name: string, help: string, read: () => number | null): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const value = read();
        if (value === null) this.remove();
        else this.set(value);
      },
    });
  };
  gauge(
    'tickstream_log_lag',
    "Records of the trades topic not yet processed by the engine, summed over partitions: the TS engine counts from the offsets its consumer group has committed, the Spark engine from the end offsets of its trades query's last micro-batch. No sample while unknown (Spark before its first micro-batch, or Kafka not answering).",
    () => stats.logLag,
  );
  gauge('tickstream_spool_depth', "Trades in the producer's spool while the broker is away.", () => stats.spoolDepth);
  gauge('tickstream_engine_waiting', "1 while this process's engine waits for Kafka to answer (before it starts, or while its fetches fail), else 0.", () => (engineWaitingSince(stats) === undefined ? 0 : 1));
  gauge('tickstream_uptime_seconds', 'Seconds since the pipeline started.', () => (Date.now() - stats.startedAt) / 1000);
  gauge('tickstream_source_connected', '1 while the source is connected, else 0.', () => (sources.sourceStatus().state === 'connected' ? 1 : 0));
  gauge('tickstream_stream_clients', 'Dashboards connected to the live stream.', sources.streamClients);
  gauge('tickstream_received_per_second', 'Trades received per second (10 s window).', () => stats.receivedRate.perSecond(Date.now()));
  gauge('tickstream_processed_per_second', 'Trades processed per second (10 s window).', () => stats.processedRate.perSecond(Date.now()));

  // Kept under their first names (the dashboard's readers and tests know them); the histograms below are the ones to query.
  const quantiles = (name: string, help: string, histogram: PipelineStats['latency']): void =>
    registerLatencySummary(registry, name, help, histogram, [0.5, 0.9, 0.99]);
  quantiles('tickstream_latency_ms', 'Ingest to bar stored, per trade, in milliseconds.', stats.latency);
  quantiles('tickstream_flush_duration_ms', 'Engine flush duration in milliseconds.', stats.flushDuration);
  quantiles('tickstream_store_write_ms', 'Store write duration in milliseconds.', stats.storeWriteDuration);

  registerLatencyHistogram(registry, 'tickstream_end_to_end_latency_seconds', 'Ingest to bar stored, per trade.', stats.latency, END_TO_END_BUCKETS_S);
  registerLatencyHistogram(registry, 'tickstream_flush_duration_seconds', 'Engine flush duration.', stats.flushDuration, DURATION_BUCKETS_S);
  registerLatencyHistogram(registry, 'tickstream_store_write_duration_seconds', 'Store write duration.', stats.storeWriteDuration, DURATION_BUCKETS_S);

  const { partitionLag, sparkProgress } = sources;
  new Gauge({
    name: 'tickstream_consumer_lag',
    help: 'Records of the trades topic (kafka.topic) not yet read by this consumer, per partition.',
    labelNames: ['partition'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [partition, lag] of partitionLag?.() ?? []) this.set({ partition: String(partition) }, lag);
    },
  });
  const sparkGauge = (name: string, help: string, read: (p: SparkQueryProgressSample) => number | undefined): void => {
    new Gauge({
      name,
      help,
      labelNames: ['query'],
      registers: [registry],
      collect() {
        this.reset();
        for (const p of sparkProgress?.() ?? []) {
          const value = read(p);
          if (value !== undefined && Number.isFinite(value)) this.set({ query: p.query }, value);
        }
      },
    });
  };
  sparkGauge('tickstream_spark_batch_id', 'Id of the last micro-batch of each Spark query.', (p) => p.batchId);
  sparkGauge('tickstream_spark_batch_input_rows', 'Input rows of the last micro-batch of each Spark query.', (p) => p.numInputRows);
  sparkGauge('tickstream_spark_batch_duration_seconds', 'Duration of the last micro-batch of each Spark query.', (p) =>
    p.batchDurationMs === undefined ? undefined : p.batchDurationMs / 1000,
  );
  sparkGauge('tickstream_spark_input_rows_per_second', 'Input rate of each Spark query in its last micro-batch.', (p) => p.inputRowsPerSecond);
  sparkGauge('tickstream_spark_processed_rows_per_second', 'Processing rate of each Spark query in its last micro-batch.', (p) => p.processedRowsPerSecond);
  return registry;
}
