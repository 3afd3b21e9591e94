import { SparkError } from '../errors.ts';
import type { Row } from './arrow-rows.ts';
import { col, expr } from './expressions.ts';
import type { PlanRunner } from './plan-runner.ts';
import type { DataSource, Expression, Relation, Trigger, WriteStreamOperationStart } from './proto-types.ts';
import { StreamingQuery, StreamingQueryManager } from './streaming-query.ts';

/**
 * A small typed DataFrame builder. Every method returns a new immutable value holding the
 * Spark Connect Relation tree built so far (`plan`); nothing reaches the server until
 * collect() or writeStream...start(). Strings given where an expression is expected are SQL
 * expressions parsed by the server (as in selectExpr): `'symbol'`, `"window(ts, '5 seconds')"`,
 * `'min_by(price, ts) AS open'`.
 */
export class DataFrame {
  readonly plan: Relation;
  readonly #runner: PlanRunner | undefined;

  constructor(plan: Relation, runner?: PlanRunner) {
    this.plan = plan;
    this.#runner = runner;
  }

  #with(plan: Relation): DataFrame {
    return new DataFrame(plan, this.#runner);
  }

  /** Columns by name or as expressions. */
  select(...columns: readonly (string | Expression)[]): DataFrame {
    return this.#with({ project: { input: this.plan, expressions: columns.map((c) => (typeof c === 'string' ? col(c) : c)) } });
  }

  /** SQL expressions, e.g. `'CAST(value AS STRING) AS json'`. */
  selectExpr(...expressions: readonly string[]): DataFrame {
    return this.#with({ project: { input: this.plan, expressions: expressions.map(expr) } });
  }

  filter(condition: string | Expression): DataFrame {
    return this.#with({ filter: { input: this.plan, condition: toExpression(condition) } });
  }

  where(condition: string | Expression): DataFrame {
    return this.filter(condition);
  }

  /** Event-time watermark: state older than max(eventTime) - delay is dropped. delay is an interval, e.g. `'10 seconds'`. */
  withWatermark(eventTime: string, delay: string): DataFrame {
    return this.#with({ with_watermark: { input: this.plan, event_time: eventTime, delay_threshold: delay } });
  }

  groupBy(...expressions: readonly (string | Expression)[]): GroupedData {
    return new GroupedData(this, expressions.map(toExpression), this.#runner);
  }

  orderBy(...expressions: readonly (string | Expression)[]): DataFrame {
    const order = expressions.map((e) => ({ child: toExpression(e), direction: 'SORT_DIRECTION_ASCENDING' as const }));
    return this.#with({ sort: { input: this.plan, order, is_global: true } });
  }

  limit(n: number): DataFrame {
    return this.#with({ limit: { input: this.plan, limit: n } });
  }

  /** Runs a batch plan and returns its rows. */
  async collect(): Promise<Row[]> {
    return requireRunner(this.#runner, 'collect()').executeRelation(this.plan);
  }

  get writeStream(): DataStreamWriter {
    return new DataStreamWriter(this.plan, this.#runner);
  }
}

export class GroupedData {
  readonly #input: DataFrame;
  readonly #grouping: readonly Expression[];
  readonly #runner: PlanRunner | undefined;

  constructor(input: DataFrame, grouping: readonly Expression[], runner: PlanRunner | undefined) {
    this.#input = input;
    this.#grouping = grouping;
    this.#runner = runner;
  }

  /** The output holds the grouping columns followed by the aggregates. */
  agg(...aggregates: readonly (string | Expression)[]): DataFrame {
    if (aggregates.length === 0) throw new SparkError('agg() needs at least one aggregate expression');
    return new DataFrame(
      {
        aggregate: {
          input: this.#input.plan,
          group_type: 'GROUP_TYPE_GROUPBY',
          grouping_expressions: this.#grouping,
          aggregate_expressions: aggregates.map(toExpression),
        },
      },
      this.#runner,
    );
  }
}

interface ReaderState {
  readonly format?: string;
  readonly schema?: string;
  readonly options: Readonly<Record<string, string>>;
}

abstract class ReaderBase<Self> {
  protected readonly state: ReaderState;
  protected readonly runner: PlanRunner | undefined;

  constructor(runner: PlanRunner | undefined, state: ReaderState = { options: {} }) {
    this.runner = runner;
    this.state = state;
  }

  protected abstract next(state: ReaderState): Self;

  format(format: string): Self {
    return this.next({ ...this.state, format });
  }

  /** A DDL schema, e.g. `'symbol STRING, price DOUBLE'`; leave unset for kafka and rate. */
  schema(ddl: string): Self {
    return this.next({ ...this.state, schema: ddl });
  }

  option(key: string, value: string | number | boolean): Self {
    return this.next({ ...this.state, options: { ...this.state.options, [key]: String(value) } });
  }

  options(options: Readonly<Record<string, string | number | boolean>>): Self {
    const merged = { ...this.state.options };
    for (const [k, v] of Object.entries(options)) merged[k] = String(v);
    return this.next({ ...this.state, options: merged });
  }

  protected dataSource(path: string | undefined): DataSource {
    return {
      ...(this.state.format === undefined ? {} : { format: this.state.format }),
      ...(this.state.schema === undefined ? {} : { schema: this.state.schema }),
      options: this.state.options,
      ...(path === undefined ? {} : { paths: [path] }),
    };
  }
}

/** spark.readStream: a streaming source. */
export class DataStreamReader extends ReaderBase<DataStreamReader> {
  protected next(state: ReaderState): DataStreamReader {
    return new DataStreamReader(this.runner, state);
  }

  load(path?: string): DataFrame {
    return new DataFrame({ read: { is_streaming: true, data_source: this.dataSource(path) } }, this.runner);
  }
}

/** spark.read: a batch source. */
export class DataFrameReader extends ReaderBase<DataFrameReader> {
  protected next(state: ReaderState): DataFrameReader {
    return new DataFrameReader(this.runner, state);
  }

  load(path?: string): DataFrame {
    return new DataFrame({ read: { is_streaming: false, data_source: this.dataSource(path) } }, this.runner);
  }

  table(name: string): DataFrame {
    return new DataFrame({ read: { named_table: { unparsed_identifier: name, options: this.state.options } } }, this.runner);
  }
}

export type OutputMode = 'append' | 'update' | 'complete';

export type StreamTrigger =
  | { readonly processingTime: string }
  | { readonly availableNow: true }
  | { readonly once: true }
  | { readonly continuous: string };

function toTrigger(trigger: StreamTrigger): Trigger {
  if ('processingTime' in trigger) return { processing_time_interval: trigger.processingTime };
  if ('availableNow' in trigger) return { available_now: true };
  if ('once' in trigger) return { once: true };
  return { continuous_checkpoint_interval: trigger.continuous };
}

interface WriterState {
  readonly format?: string;
  readonly options: Readonly<Record<string, string>>;
  readonly outputMode?: OutputMode;
  readonly trigger?: StreamTrigger;
  readonly queryName?: string;
  readonly partitionBy?: readonly string[];
}

/** df.writeStream: where and how a streaming query writes. */
export class DataStreamWriter {
  readonly #input: Relation;
  readonly #runner: PlanRunner | undefined;
  readonly #state: WriterState;

  constructor(input: Relation, runner: PlanRunner | undefined, state: WriterState = { options: {} }) {
    this.#input = input;
    this.#runner = runner;
    this.#state = state;
  }

  #next(state: Partial<WriterState>): DataStreamWriter {
    return new DataStreamWriter(this.#input, this.#runner, { ...this.#state, ...state });
  }

  format(format: string): DataStreamWriter {
    return this.#next({ format });
  }

  option(key: string, value: string | number | boolean): DataStreamWriter {
    return this.#next({ options: { ...this.#state.options, [key]: String(value) } });
  }

  options(options: Readonly<Record<string, string | number | boolean>>): DataStreamWriter {
    const merged = { ...this.#state.options };
    for (const [k, v] of Object.entries(options)) merged[k] = String(v);
    return this.#next({ options: merged });
  }

  outputMode(outputMode: OutputMode): DataStreamWriter {
    return this.#next({ outputMode });
  }

  trigger(trigger: StreamTrigger): DataStreamWriter {
    return this.#next({ trigger });
  }

  /** The name Spark lists the query under; start() uses it to find a query already running. */
  queryName(queryName: string): DataStreamWriter {
    return this.#next({ queryName });
  }

  partitionBy(...columns: readonly string[]): DataStreamWriter {
    return this.#next({ partitionBy: columns });
  }

  /** The command start() sends. */
  toCommand(path?: string): WriteStreamOperationStart {
    const s = this.#state;
    return {
      input: this.#input,
      ...(s.format === undefined ? {} : { format: s.format }),
      options: s.options,
      ...(s.partitionBy === undefined ? {} : { partitioning_column_names: s.partitionBy }),
      ...(s.trigger === undefined ? {} : toTrigger(s.trigger)),
      ...(s.outputMode === undefined ? {} : { output_mode: s.outputMode }),
      ...(s.queryName === undefined ? {} : { query_name: s.queryName }),
      ...(path === undefined ? {} : { path }),
    };
  }

  /**
   * Starts the query, or returns the one already running under the same queryName in this
   * session: a start is never sent twice. A start that fails in transit (the server may have
   * started it anyway) is not re-sent either; the active list is checked again instead.
   * The returned handle keeps the session alive until it is stopped or detached.
   */
  async start(path?: string): Promise<StreamingQuery> {
    const runner = requireRunner(this.#runner, 'writeStream.start()');
    const streams = new StreamingQueryManager(runner);
    const name = this.#state.queryName;
    const attach = async (): Promise<StreamingQuery | undefined> => {
      if (name === undefined) return undefined;
      const found = (await streams.active()).find((q) => q.name === name);
      return found ? new StreamingQuery(runner, found, { holdSession: true }) : undefined;
    };
    const running = await attach();
    if (running) {
      runner.logger.info('streaming query already active, attached', { name, id: running.id, run_id: running.runId });
      return running;
    }
    let responses;
    try {
      responses = await runner.executeCommand({ write_stream_operation_start: this.toCommand(path) });
    } catch (error) {
      if (error instanceof SparkError && error.canRetry) {
        const started = await attach().catch((recheck: unknown) => {
          runner.logger.warn('cannot check whether the failed start went through', { name, error: String(recheck) });
          return undefined;
        });
        if (started) return started;
      }
      throw error;
    }
    const result = responses.find((r) => r.write_stream_operation_start_result)?.write_stream_operation_start_result;
    const id = result?.query_id?.id;
    const runId = result?.query_id?.run_id;
    if (!id || !runId) throw new SparkError(`streaming query ${name ?? '(unnamed)'} started but the server returned no query id`);
    const query = new StreamingQuery(runner, { id, runId, name: result?.name || name || null }, { holdSession: true });
    runner.logger.info('streaming query started', { name: query.name ?? undefined, id, run_id: runId });
    return query;
  }
}

function toExpression(e: string | Expression): Expression {
  return typeof e === 'string' ? expr(e) : e;
}

function requireRunner(runner: PlanRunner | undefined, what: string): PlanRunner {
  if (!runner) throw new SparkError(`${what} needs a Spark Connect session: build the DataFrame from a SparkConnectClient`);
  return runner;
}
