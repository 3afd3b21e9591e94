import type { PipelineStats } from '../observability/index.ts';
import { formatDuration, secondsSince, snapshotStats } from '../observability/index.ts';
import type { SourceStatus } from '../source/source.ts';
import type { KafkaViewStats } from './kafka-view.ts';

const n = (x: number): string => Math.round(x).toLocaleString('en-US');
/** A lag not known (yet) is `-`, never 0: nothing would look caught up that may be far behind. */
const lagOf = (lag: number | null | undefined): string => `lag ${lag === null || lag === undefined ? '-' : n(lag)}`;

export interface StatusLineOptions {
  /** The roles this process runs; each prints its own part (all of them when not given, as `run` does). */
  readonly roles?: { readonly produce: boolean; readonly process: boolean };
  /** A serve role's view of the pipeline from Kafka: its counts replace the process's own idle ones. */
  readonly view?: KafkaViewStats;
  readonly nowMs?: number;
}

/**
 * The periodic one-line status, with what the process does: the source's rate and spool for the
 * produce role; the engine's rate, lag, late trades and latency for the process role; the counts
 * Kafka gives (and no latency) for a serve role reading the pipeline from Kafka.
 */
export function statusLine(stats: PipelineStats, source: SourceStatus | undefined, options: StatusLineOptions = {}): string {
  const nowMs = options.nowMs ?? Date.now();
  const s = snapshotStats(stats, nowMs);
  const { produce, process } = options.roles ?? { produce: true, process: true };
  const view = options.view;
  const parts: string[] = [];
  if (source !== undefined) parts.push(`${source.kind} ${source.state}`);
  if (view !== undefined) {
    const error = view.kafka_view.error;
    const age = view.kafka_view.age_s;
    parts.push(error === null ? 'from Kafka' : `from Kafka, NOT ANSWERING (last reading ${age === null ? 'none' : `${age}s ago`})`);
    const rates = view.rates ?? s.rates;
    parts.push(
      `in ${n(rates.received_per_s)}/s`,
      `processed ${n(rates.processed_per_s)}/s`,
      lagOf(view.log_lag),
      `late ${n(view.late ?? 0)}`,
      `invalid ${n(view.invalid ?? 0)}`,
    );
    const down = storeDown(stats, nowMs);
    if (down !== undefined) parts.push(down);
    return parts.join(' · ');
  }
  if (produce) parts.push(`in ${n(s.rates.received_per_s)}/s`);
  if (process) parts.push(`processed ${n(s.rates.processed_per_s)}/s`, `bars ${n(s.rates.bars_per_s)}/s`, lagOf(s.log_lag), `late ${n(s.late)}`);
  parts.push(`invalid ${n(s.invalid)}`);
  if (process) {
    // No bar stored yet (the engine starting, or waiting for Kafka): no latency to show, not 0 ms.
    const { p50, p99, count } = s.latency_ms;
    parts.push(count === 0 ? 'latency -' : `latency p50 ${formatDuration(p50)} p99 ${formatDuration(p99)}`);
  }
  if (produce && (s.spool_depth > 0 || !process)) parts.push(`spool ${n(s.spool_depth)}`);
  // Waiting to start; an engine that runs and cannot fetch says KAFKA NOT ANSWERING (or TOPIC … MISSING) below.
  if (stats.engineWaitingSince !== undefined) parts.push(`ENGINE WAITING FOR KAFKA ${secondsSince(stats.engineWaitingSince, nowMs)}s, source spooled`);
  if (s.engine_state === 'stopped') parts.push(`ENGINE STOPPED: ${s.engine_stopped ?? 'no new bars'}`);
  const fetchFailing = stats.kafkaFetchFailingSince;
  if (process && fetchFailing !== undefined) {
    const missing = stats.kafkaMissingTopic;
    const failing = secondsSince(fetchFailing, nowMs);
    // Kafka answers, and says it has no such topic: it is the topic that is gone, not Kafka.
    parts.push(missing === undefined ? `KAFKA NOT ANSWERING ${failing}s, retrying` : `TOPIC ${missing} MISSING ${failing}s (Kafka answers: unknown topic), retrying`);
  }
  const down = storeDown(stats, nowMs);
  if (down !== undefined) parts.push(down);
  if (s.store_errors > 0) parts.push(`store errors ${n(s.store_errors)}`);
  return parts.join(' · ');
}

/** The engine's writes failing hold its offsets; a process that only reads the store (`serve`) has none to hold. */
function storeDown(stats: PipelineStats, nowMs: number): string | undefined {
  const writing = stats.storeFailingSince;
  if (writing !== undefined) return `STORE DOWN ${secondsSince(writing, nowMs)}s, retrying, offsets held`;
  const reading = stats.storeReadFailingSince;
  if (reading !== undefined) return `STORE DOWN ${secondsSince(reading, nowMs)}s, retrying`;
  return undefined;
}
