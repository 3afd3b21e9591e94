import { SparkError } from '../errors.ts';
import type { PlanRunner } from './plan-runner.ts';
import type {
  ExecutePlanResponse,
  StreamingQueryCommand,
  StreamingQueryCommandResult,
  StreamingQueryInstance,
  StreamingQueryInstanceId,
  StreamingQueryManagerCommandResult,
} from './proto-types.ts';

export interface StreamingQueryStatus {
  readonly message: string;
  readonly isDataAvailable: boolean;
  readonly isTriggerActive: boolean;
  readonly isActive: boolean;
}

/** The fields of Spark's StreamingQueryProgress JSON that tickstream reads; `json` keeps all of it. */
export interface StreamingQueryProgress {
  readonly id: string;
  readonly runId: string;
  readonly name: string | null;
  /** ISO-8601 time the trigger started. */
  readonly timestamp: string;
  readonly batchId: number;
  /** Wall time of the whole micro-batch (the trigger's execution). */
  readonly batchDurationMs?: number;
  readonly numInputRows: number;
  /** Absent when Spark had no rate to report (its NaN is left out of the JSON). */
  readonly inputRowsPerSecond?: number;
  readonly processedRowsPerSecond?: number;
  /** Phase durations of the batch, e.g. triggerExecution, addBatch. */
  readonly durationMs: Readonly<Record<string, number>>;
  /** Event-time stats of the batch: watermark, min, max, avg (ISO-8601 strings). */
  readonly eventTime: Readonly<Record<string, string>>;
  /** Input rows the batch's stateful operators dropped as behind the watermark (0 without such an operator). */
  readonly numRowsDroppedByWatermark: number;
  readonly json: Readonly<Record<string, unknown>>;
}

export interface StreamingQueryException {
  readonly message: string;
  readonly errorClass?: string;
  readonly stackTrace?: string;
}

export interface ActiveQuery {
  readonly id: string;
  readonly runId: string;
  readonly name: string | null;
}

/** Parses one progress JSON string from the server; a malformed one is a SparkError naming it. */
export function parseProgress(text: string): StreamingQueryProgress {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SparkError(`streaming query progress is not JSON: ${text.slice(0, 120)}`, { cause: error });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new SparkError(`streaming query progress is not a JSON object: ${text.slice(0, 120)}`);
  }
  const o = json as Record<string, unknown>;
  const str = (k: string): string => (typeof o[k] === 'string' ? (o[k] as string) : '');
  const num = (k: string): number | undefined => (typeof o[k] === 'number' ? (o[k] as number) : undefined);
  const record = <T>(k: string, ok: (v: unknown) => v is T): Record<string, T> => {
    const v = o[k];
    if (typeof v !== 'object' || v === null) return {};
    return Object.fromEntries(Object.entries(v).filter((e): e is [string, T] => ok(e[1])));
  };
  const batchId = num('batchId');
  if (batchId === undefined) throw new SparkError(`streaming query progress has no batchId: ${text.slice(0, 120)}`);
  // The JSON a Connect server sends carries the row counts and rates per source only (the
  // top-level totals of the Scala object are derived, not serialised): sum them here.
  const sources = Array.isArray(o['sources']) ? (o['sources'] as unknown[]) : [];
  const sumOfSources = (k: string): number | undefined => {
    const values = sources.map((src) => (typeof src === 'object' && src !== null ? (src as Record<string, unknown>)[k] : undefined));
    const numbers = values.filter((v): v is number => typeof v === 'number');
    return numbers.length === 0 ? undefined : numbers.reduce((a, b) => a + b, 0);
  };
  const total = (k: string): number | undefined => num(k) ?? sumOfSources(k);
  const operators = Array.isArray(o['stateOperators']) ? (o['stateOperators'] as unknown[]) : [];
  let numRowsDroppedByWatermark = 0;
  for (const op of operators) {
    const dropped = typeof op === 'object' && op !== null ? (op as Record<string, unknown>)['numRowsDroppedByWatermark'] : undefined;
    if (typeof dropped === 'number' && dropped > 0) numRowsDroppedByWatermark += dropped;
  }
  const inputRowsPerSecond = total('inputRowsPerSecond');
  const processedRowsPerSecond = total('processedRowsPerSecond');
  const durationMs = record('durationMs', (v): v is number => typeof v === 'number');
  const batchDurationMs = num('batchDuration') ?? durationMs['triggerExecution'];
  return {
    id: str('id'),
    runId: str('runId'),
    name: typeof o['name'] === 'string' ? o['name'] : null,
    timestamp: str('timestamp'),
    batchId,
    ...(batchDurationMs === undefined ? {} : { batchDurationMs }),
    numInputRows: total('numInputRows') ?? 0,
    ...(inputRowsPerSecond === undefined ? {} : { inputRowsPerSecond }),
    ...(processedRowsPerSecond === undefined ? {} : { processedRowsPerSecond }),
    durationMs,
    eventTime: record('eventTime', (v): v is string => typeof v === 'string'),
    numRowsDroppedByWatermark,
    json: o,
  };
}

/**
 * The offsets of a Kafka source in a progress (its `startOffset`, `endOffset` or
 * `latestOffset`), by topic and partition: JSON such as `{"market.trades":{"0":120,"1":98}}`,
 * which some servers send as a string rather than an object. undefined when the value is not
 * such offsets (absent, not JSON, or an offset that is not a whole number ≥ 0).
 */
export function kafkaOffsets(value: unknown): Map<string, Map<number, number>> | undefined {
  let v = value;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v) as unknown;
    } catch {
      return undefined;
    }
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const out = new Map<string, Map<number, number>>();
  for (const [topic, parts] of Object.entries(v)) {
    if (typeof parts !== 'object' || parts === null || Array.isArray(parts)) return undefined;
    const m = new Map<number, number>();
    for (const [k, offset] of Object.entries(parts)) {
      const partition = Number(k);
      if (!Number.isInteger(partition) || partition < 0 || !Number.isSafeInteger(offset) || (offset as number) < 0) return undefined;
      m.set(partition, offset as number);
    }
    out.set(topic, m);
  }
  return out;
}

function queryId(id: Partial<StreamingQueryInstanceId> | undefined, what: string): StreamingQueryInstanceId {
  if (!id?.id || !id.run_id) throw new SparkError(`${what}: the server's answer carries no query id`);
  return { id: id.id, run_id: id.run_id };
}

function toActiveQuery(q: StreamingQueryInstance): ActiveQuery {
  const { id, run_id } = queryId(q.id, 'active streaming queries');
  return { id, runId: run_id, name: q.name ?? null };
}

/**
 * A handle on a streaming query of this session, by id and run id. Each call is one
 * StreamingQueryCommand. While the handle holds the session (after start), the client keeps
 * the session alive; stop(), or a status that says the query ended, releases it.
 */
export class StreamingQuery {
  readonly id: string;
  readonly runId: string;
  readonly name: string | null;
  readonly #runner: PlanRunner;
  #release: (() => void) | undefined;

  constructor(runner: PlanRunner, query: ActiveQuery, options: { readonly holdSession?: boolean } = {}) {
    this.#runner = runner;
    this.id = query.id;
    this.runId = query.runId;
    this.name = query.name;
    if (options.holdSession) this.#release = runner.holdSession(`streaming query ${query.name ?? query.id}`);
  }

  async status(): Promise<StreamingQueryStatus> {
    const status = (await this.#command({ status: true })).status ?? {};
    const result = {
      message: status.status_message ?? '',
      isDataAvailable: status.is_data_available ?? false,
      isTriggerActive: status.is_trigger_active ?? false,
      isActive: status.is_active ?? false,
    };
    if (!result.isActive) this.#releaseSession();
    return result;
  }

  async lastProgress(): Promise<StreamingQueryProgress | null> {
    const json = (await this.#command({ last_progress: true })).recent_progress?.recent_progress_json ?? [];
    const last = json.at(-1);
    return last === undefined ? null : parseProgress(last);
  }

  async recentProgress(): Promise<StreamingQueryProgress[]> {
    const json = (await this.#command({ recent_progress: true })).recent_progress?.recent_progress_json ?? [];
    return json.map(parseProgress);
  }

  /** The error that ended the query, or null while it runs or after a clean stop. */
  async exception(): Promise<StreamingQueryException | null> {
    const e = (await this.#command({ exception: true })).exception;
    if (!e || e.exception_message === undefined) return null;
    return {
      message: e.exception_message,
      ...(e.error_class === undefined ? {} : { errorClass: e.error_class }),
      ...(e.stack_trace === undefined ? {} : { stackTrace: e.stack_trace }),
    };
  }

  /**
   * Waits on the server until the query ends or timeoutMs passes; true when it ended.
   * Keep the timeout short (seconds): the call holds one plain ExecutePlan stream open.
   */
  async awaitTermination(timeoutMs: number): Promise<boolean> {
    const r = await this.#command({ await_termination: { timeout_ms: String(Math.max(0, Math.trunc(timeoutMs))) } });
    return r.await_termination?.terminated ?? false;
  }

  async stop(): Promise<void> {
    await this.#command({ stop: true });
    this.#releaseSession();
    this.#runner.logger.info('streaming query stopped', { name: this.name ?? undefined, id: this.id });
  }

  /** Lets go of the session without stopping the query (another process takes over watching it). */
  detach(): void {
    this.#releaseSession();
  }

  #releaseSession(): void {
    this.#release?.();
    this.#release = undefined;
  }

  async #command(command: DistributiveOmit<StreamingQueryCommand, 'query_id'>): Promise<StreamingQueryCommandResult> {
    const responses = await this.#runner.executeCommand({
      streaming_query_command: { query_id: { id: this.id, run_id: this.runId }, ...command } as StreamingQueryCommand,
    });
    const result = responses.find((r) => r.streaming_query_command_result)?.streaming_query_command_result;
    if (!result) throw new SparkError(`streaming query ${this.name ?? this.id}: the server answered without a command result`);
    return result;
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The session's streaming queries (spark.streams): only this session's queries are visible. */
export class StreamingQueryManager {
  readonly #runner: PlanRunner;

  constructor(runner: PlanRunner) {
    this.#runner = runner;
  }

  async active(): Promise<ActiveQuery[]> {
    const result = await this.#manager({ active: true }, 'active streaming queries');
    return (result.active?.active_queries ?? []).map(toActiveQuery);
  }

  /** The active query with this id, or null when the session has none. */
  async get(id: string): Promise<StreamingQuery | null> {
    const result = await this.#manager({ get_query: id }, `streaming query ${id}`);
    return result.query ? new StreamingQuery(this.#runner, toActiveQuery(result.query)) : null;
  }

  async byName(name: string): Promise<StreamingQuery | null> {
    const found = (await this.active()).find((q) => q.name === name);
    return found ? new StreamingQuery(this.#runner, found) : null;
  }

  async #manager(
    command: { readonly active: true } | { readonly get_query: string },
    what: string,
  ): Promise<StreamingQueryManagerCommandResult> {
    const responses: ExecutePlanResponse[] = await this.#runner.executeCommand({ streaming_query_manager_command: command });
    const result = responses.find((r) => r.streaming_query_manager_command_result)?.streaming_query_manager_command_result;
    if (!result) throw new SparkError(`${what}: the server answered without a command result`);
    return result;
  }
}
