import type { PipelineStats } from '../observability/index.ts';
import { formatDuration, snapshotStats } from '../observability/index.ts';
import type { SourceStatus } from '../source/source.ts';

const n = (x: number): string => Math.round(x).toLocaleString('en-US');

/** The periodic one-line status: rates, lag, late/invalid counts, latency. */
export function statusLine(stats: PipelineStats, source: SourceStatus | undefined, nowMs = Date.now()): string {
  const s = snapshotStats(stats, nowMs);
  const parts = [
    ...(source === undefined ? [] : [`${source.kind} ${source.state}`]),
    `in ${n(s.rates.received_per_s)}/s`,
    `processed ${n(s.rates.processed_per_s)}/s`,
    `bars ${n(s.rates.bars_per_s)}/s`,
    `lag ${n(s.log_lag)}`,
    `late ${n(s.late)}`,
    `invalid ${n(s.invalid)}`,
    `latency p50 ${formatDuration(s.latency_ms.p50)} p99 ${formatDuration(s.latency_ms.p99)}`,
  ];
  if (s.spool_depth > 0) parts.push(`spool ${n(s.spool_depth)}`);
  if (s.store_state === 'retrying') parts.push(`STORE DOWN ${s.store_failing_s}s, retrying, offsets held`);
  if (s.store_errors > 0) parts.push(`store errors ${n(s.store_errors)}`);
  return parts.join(' · ');
}
