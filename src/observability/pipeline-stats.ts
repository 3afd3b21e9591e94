import { LatencyHistogram } from './latency-histogram.ts';
import { RateMeter } from './rate-meter.ts';

/**
 * The pipeline's counters, shared by every stage of one process. Plain fields:
 * they are bumped on the hot path. `/api/stats`, the status line and `/metrics` read them.
 */
export class PipelineStats {
  readonly startedAt = Date.now();
  /** Valid trades from the source. */
  received = 0;
  /** Invalid frames and trades (dead-lettered). */
  invalid = 0;
  /** Trades behind the watermark (set aside, not aggregated). */
  late = 0;
  unknownMessages = 0;
  reconnects = 0;
  /** Trades appended to the log (Kafka or in-process). */
  produced = 0;
  /** Trades processed by the engine. */
  processed = 0;
  tradesStored = 0;
  barsStored = 0;
  flushes = 0;
  storeErrors = 0;
  /** When the store began failing writes (epoch ms); undefined while writes succeed. */
  storeFailingSince: number | undefined;
  /** When reads of the store began failing, for a process that only reads it (`serve`); undefined while they succeed. */
  storeReadFailingSince: number | undefined;
  /** When the engine's fetches from Kafka began failing (epoch ms); undefined while they succeed. */
  kafkaFetchFailingSince: number | undefined;
  /**
   * The topic the engine reads, while its fetches fail because Kafka answers that it has no such
   * topic (it was deleted): Kafka is reachable, the topic is not. Undefined otherwise.
   */
  kafkaMissingTopic: string | undefined;
  /** Trades waiting in the producer's spool while the broker is away. */
  spoolDepth = 0;
  /** When this process's engine began waiting for Kafka to start (epoch ms); undefined once it runs, or with no engine here. */
  engineWaitingSince: number | undefined;
  /** Why this process's engine makes no more bars while the process runs on (its Spark queries were stopped from elsewhere). */
  engineStopped: string | undefined;
  /**
   * Records of the trades topic not yet processed by the engine, summed over partitions; null
   * while unknown (the Spark engine before its first micro-batch, or Kafka not answering).
   */
  logLag: number | null = 0;
  /** ingest → bar stored, per trade. */
  readonly latency = new LatencyHistogram();
  readonly flushDuration = new LatencyHistogram();
  readonly storeWriteDuration = new LatencyHistogram();
  readonly receivedRate = new RateMeter();
  readonly processedRate = new RateMeter();
  readonly barsRate = new RateMeter();
}

/** The `/api/stats` shape (snake_case on the wire). */
export interface StatsSnapshot {
  uptime_s: number;
  received: number;
  invalid: number;
  late: number;
  unknown_messages: number;
  reconnects: number;
  produced: number;
  processed: number;
  trades_stored: number;
  bars_stored: number;
  flushes: number;
  store_errors: number;
  /** `retrying` while the store refuses writes: offsets are not committed and the log backs up. */
  store_state: 'ok' | 'retrying';
  store_failing_s: number;
  spool_depth: number;
  /**
   * `waiting` while this process's engine waits for Kafka to answer: before it starts (`tickstream
   * run` started before Kafka), or while its fetches fail; `stopped` once it makes no more bars
   * while the process runs on.
   */
  engine_state: 'ok' | 'waiting' | 'stopped';
  engine_waiting_s: number;
  /**
   * The topic the waiting engine reads, when Kafka answers that it has no such topic (deleted):
   * the engine waits for the topic, not for Kafka. Only while it waits for that reason.
   */
  missing_topic?: string;
  /** Why the engine is stopped; only with `engine_state: 'stopped'`. */
  engine_stopped?: string;
  /** null while unknown (see PipelineStats.logLag). */
  log_lag: number | null;
  rates: { received_per_s: number; processed_per_s: number; bars_per_s: number };
  latency_ms: { p50: number; p90: number; p99: number; max: number; count: number };
  flush_ms: { p50: number; p99: number };
}

const round = (n: number, digits = 2): number => Number(n.toFixed(digits));

/**
 * Since when this process's engine has been waiting for Kafka (epoch ms): to start, or, once it
 * runs, for its fetches to succeed again; undefined while it is not waiting.
 */
export const engineWaitingSince = (s: PipelineStats): number | undefined => s.engineWaitingSince ?? s.kafkaFetchFailingSince;

/** Whole seconds from `since` (epoch ms) to now; 0 when nothing is under way. */
export const secondsSince = (since: number | undefined, nowMs: number): number => (since === undefined ? 0 : Math.round((nowMs - since) / 1000));

export function snapshotStats(s: PipelineStats, nowMs = Date.now()): StatsSnapshot {
  return {
    uptime_s: Math.round((nowMs - s.startedAt) / 1000),
    received: s.received,
    invalid: s.invalid,
    late: s.late,
    unknown_messages: s.unknownMessages,
    reconnects: s.reconnects,
    produced: s.produced,
    processed: s.processed,
    trades_stored: s.tradesStored,
    bars_stored: s.barsStored,
    flushes: s.flushes,
    store_errors: s.storeErrors,
    store_state: s.storeFailingSince === undefined ? 'ok' : 'retrying',
    store_failing_s: secondsSince(s.storeFailingSince, nowMs),
    spool_depth: s.spoolDepth,
    engine_state: s.engineStopped !== undefined ? 'stopped' : engineWaitingSince(s) === undefined ? 'ok' : 'waiting',
    engine_waiting_s: secondsSince(engineWaitingSince(s), nowMs),
    ...(s.engineStopped === undefined ? {} : { engine_stopped: s.engineStopped }),
    ...(s.engineStopped === undefined && s.kafkaFetchFailingSince !== undefined && s.kafkaMissingTopic !== undefined ? { missing_topic: s.kafkaMissingTopic } : {}),
    log_lag: s.logLag,
    rates: {
      received_per_s: round(s.receivedRate.perSecond(nowMs), 1),
      processed_per_s: round(s.processedRate.perSecond(nowMs), 1),
      bars_per_s: round(s.barsRate.perSecond(nowMs), 1),
    },
    latency_ms: {
      p50: round(s.latency.quantile(0.5)),
      p90: round(s.latency.quantile(0.9)),
      p99: round(s.latency.quantile(0.99)),
      max: round(s.latency.max),
      count: s.latency.count,
    },
    flush_ms: { p50: round(s.flushDuration.quantile(0.5)), p99: round(s.flushDuration.quantile(0.99)) },
  };
}
