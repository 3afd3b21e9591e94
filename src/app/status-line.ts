import type { PipelineStats } from '../observability/index.ts';
import { formatDuration, snapshotStats } from '../observability/index.ts';
import type { SourceStatus } from '../source/source.ts';
import type { KafkaViewStats } from './kafka-view.ts';

const n = (x: number): string => Math.round(x).toLocaleString('en-US');

/**
 * The periodic one-line status: rates, lag, late/invalid counts, latency. With `view` (a serve
 * role reading the pipeline from Kafka) the counts are Kafka's, and there is no latency here.
 */
export function statusLine(stats: PipelineStats, source: SourceStatus | undefined, nowMs = Date.now(), view?: KafkaViewStats): string {
  const s = snapshotStats(stats, nowMs);
  const rates = view?.rates ?? s.rates;
  const lag = view === undefined ? s.log_lag : view.log_lag;
  const parts = [
    ...(source === undefined ? [] : [`${source.kind} ${source.state}`]),
    ...(view === undefined ? [] : [view.kafka_view.error === null ? 'from Kafka' : `from Kafka, NOT ANSWERING (last reading ${view.kafka_view.age_s === null ? 'none' : `${view.kafka_view.age_s}s ago`})`]),
    `in ${n(rates.received_per_s)}/s`,
    `processed ${n(rates.processed_per_s)}/s`,
    `bars ${n(s.rates.bars_per_s)}/s`,
    `lag ${lag === null || lag === undefined ? '-' : n(lag)}`,
    `late ${n(view?.late ?? s.late)}`,
    `invalid ${n(view?.invalid ?? s.invalid)}`,
    ...(view === undefined ? [`latency p50 ${formatDuration(s.latency_ms.p50)} p99 ${formatDuration(s.latency_ms.p99)}`] : []),
  ];
  if (s.spool_depth > 0) parts.push(`spool ${n(s.spool_depth)}`);
  if (s.store_state === 'retrying') parts.push(`STORE DOWN ${s.store_failing_s}s, retrying, offsets held`);
  if (s.store_errors > 0) parts.push(`store errors ${n(s.store_errors)}`);
  return parts.join(' · ');
}
