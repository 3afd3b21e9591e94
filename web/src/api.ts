import type { BarRecord } from '../../src/domain/bar.ts';

export type { BarRecord };

import type { SymbolSummary, TradeJson as TradeWire } from '../../src/server/wire.ts';

export type { SymbolSummary, TradeWire };

/** The dashboard's connection to the live stream. */
export type StreamState = 'connecting' | 'open' | 'reconnecting';

export type SourceState = 'connecting' | 'connected' | 'reconnecting' | 'finished' | 'closed' | 'elsewhere';

export interface SourceStatus {
  kind: 'finnhub' | 'simulator' | 'replay';
  state: SourceState;
  detail: string;
  /** Subscribed symbols without a trade a while after subscribing (Finnhub only); absent when none. */
  quiet?: string[];
}

/** The fields of the stats snapshot the dashboard reads (GET /api/stats, `stats` stream event). */
export interface StatsWire {
  uptime_s: number;
  received: number;
  invalid: number;
  late: number;
  reconnects: number;
  /** null when unknown: the counts come from Kafka and the engine's group has committed nothing yet, or the Spark engine has run no batch yet (or Kafka does not answer it). */
  log_lag: number | null;
  /** `retrying` while the store refuses writes. */
  store_state?: 'ok' | 'retrying';
  store_failing_s?: number;
  /** Trades the producer keeps on disk because Kafka has not taken them; 0 while Kafka takes every send. */
  spool_depth?: number;
  /**
   * `waiting` while the engine of the process that serves waits for Kafka to answer, before it
   * starts or while its fetches fail; `stopped` once it makes no more bars while the process runs on (`engine_stopped` says why).
   */
  engine_state?: 'ok' | 'waiting' | 'stopped';
  engine_waiting_s?: number;
  /** The topic the waiting engine reads, when Kafka answers but has no such topic (it was deleted). */
  missing_topic?: string;
  engine_stopped?: string;
  rates: { received_per_s: number; processed_per_s: number; bars_per_s: number };
  latency_ms: { p50: number; p90: number; p99: number; max: number; count: number };
  /** Present on GET /api/stats; the stream's snapshot may leave it out. */
  source?: SourceStatus;
  /**
   * `kafka` from a process that only serves (a split deployment): the counts, rates and lag are
   * read from Kafka's offsets, and there is no latency here (the process role measures it).
   */
  counts_from?: 'kafka';
  kafka_view?: KafkaViewWire;
  /** Only from a process driving the Spark engine; its parts are checked where they are read. */
  spark?: { queries?: unknown; late_replay?: Partial<LateReplayWire> };
}

/**
 * Where a serve role reads the pipeline from (`kafka_view`): the trades topic, the TS engine's
 * group (null under the Spark engine, which keeps its offsets in its checkpoint), and the last
 * reading's error and age.
 */
export interface KafkaViewWire {
  readonly topic: string;
  readonly group: string | null;
  readonly error: string | null;
  readonly age_s: number | null;
}

/** The Spark engine's late replay counts (`spark.late_replay`). */
export interface LateReplayWire {
  readonly unreplayed: number;
  readonly mismatches: number;
  readonly unseen: number;
}

export interface IntervalLists {
  /** Computed by the engine, e.g. 5s and 1m; the stream pushes these. */
  engine: string[];
  /** Rolled up on the server from an engine interval, e.g. 5m, 15m, 1h. */
  rollup: string[];
}

export interface HelloWire {
  symbols: string[];
  intervals: IntervalLists;
}

export interface ConfigWire {
  intervals: IntervalLists;
  [key: string]: unknown;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

async function getJson<T>(path: string, params: Record<string, string | number | undefined> = {}, signal?: AbortSignal): Promise<T> {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) query.set(k, String(v));
  const qs = query.toString();
  // Relative to the page, so the dashboard works under any path prefix.
  let res: Response;
  try {
    res = await fetch(qs === '' ? path : `${path}?${qs}`, signal === undefined ? {} : { signal });
  } catch (e) {
    if (signal?.aborted === true) throw e;
    // The browser's own words ("Failed to fetch", "NetworkError when attempting to fetch resource") name neither the request nor the server.
    throw new ApiError(0, `${path}: the server did not answer; is tickstream running? (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!res.ok) {
    let reason = res.statusText;
    try {
      const body = (await res.json()) as { message?: unknown };
      if (typeof body.message === 'string') reason = body.message;
    } catch {
      // The body was not JSON; the status text is all there is.
    }
    throw new ApiError(res.status, `${path}: ${res.status} ${reason}`);
  }
  return (await res.json()) as T;
}

export const api = {
  config: (): Promise<ConfigWire> => getJson('api/config'),
  symbols: (): Promise<SymbolSummary[]> => getJson('api/symbols'),
  stats: (): Promise<StatsWire> => getJson('api/stats'),
  bars: (
    q: { symbol: string; interval: string; from?: number; to?: number; limit?: number },
    signal?: AbortSignal,
  ): Promise<BarRecord[]> => getJson('api/bars', q, signal),
  trades: (q: { symbol: string; limit?: number; before?: number }, signal?: AbortSignal): Promise<TradeWire[]> =>
    getJson('api/trades', q, signal),
};
