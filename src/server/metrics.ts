import { Counter, Gauge, Registry } from 'prom-client';
import type { PipelineStats } from '../observability/index.ts';
import type { SourceStatus } from '../source/source.ts';

export interface MetricsSources {
  readonly stats: PipelineStats;
  readonly sourceStatus: () => SourceStatus;
  readonly streamClients: () => number;
}

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
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  };
  gauge('tickstream_log_lag', 'Records not yet read by the engine, summed over partitions.', () => stats.logLag);
  gauge('tickstream_spool_depth', "Trades in the producer's spool while the broker is away.", () => stats.spoolDepth);
  gauge('tickstream_uptime_seconds', 'Seconds since the pipeline started.', () => (Date.now() - stats.startedAt) / 1000);
  gauge('tickstream_source_connected', '1 while the source is connected, else 0.', () => (sources.sourceStatus().state === 'connected' ? 1 : 0));
  gauge('tickstream_stream_clients', 'Dashboards connected to the live stream.', sources.streamClients);
  gauge('tickstream_received_per_second', 'Trades received per second (10 s window).', () => stats.receivedRate.perSecond(Date.now()));
  gauge('tickstream_processed_per_second', 'Trades processed per second (10 s window).', () => stats.processedRate.perSecond(Date.now()));

  const quantiles = (name: string, help: string, histogram: PipelineStats['latency']): void => {
    new Gauge({
      name,
      help,
      labelNames: ['quantile'],
      registers: [registry],
      collect() {
        for (const q of [0.5, 0.9, 0.99]) this.set({ quantile: String(q) }, histogram.quantile(q));
      },
    });
  };
  quantiles('tickstream_latency_ms', 'Ingest to bar stored, per trade, in milliseconds.', stats.latency);
  quantiles('tickstream_flush_duration_ms', 'Engine flush duration in milliseconds.', stats.flushDuration);
  quantiles('tickstream_store_write_ms', 'Store write duration in milliseconds.', stats.storeWriteDuration);
  return registry;
}
