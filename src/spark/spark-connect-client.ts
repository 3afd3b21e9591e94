import { randomUUID } from 'node:crypto';
import { Client, Metadata, credentials, status, type CallOptions, type ChannelOptions, type ServiceError } from '@grpc/grpc-js';
import { ClosedError, SparkError } from '../errors.ts';
import { silentLogger, type Logger } from '../observability/index.ts';
import { arrowBatchToRows, type Row } from './arrow-rows.ts';
import { parseConnectionString, type SparkConnectTarget } from './connection-string.ts';
import { DataFrame, DataFrameReader, DataStreamReader } from './dataframe.ts';
import type { PlanRunner } from './plan-runner.ts';
import type {
  Command,
  ConfigOperation,
  ConfigResponse,
  ExecutePlanRequest,
  ExecutePlanResponse,
  Plan,
  Relation,
  UserContext,
} from './proto-types.ts';
import { sparkConnectProtocol } from './protocol.ts';
import { isUuid, loadOrCreateSessionId } from './session-id.ts';
import { StreamingQueryManager } from './streaming-query.ts';

export interface SparkConnectClientOptions {
  /** `sc://host:port[/;user_id=...;token=...]`, e.g. `sc://127.0.0.1:15002`. */
  readonly url: string;
  /**
   * Where the session id is kept across restarts. Without it (and without session_id in the
   * URL) every client starts a new server session.
   */
  readonly sessionIdFile?: string;
  /** The server keys a session by (user id, session id). Default: user_id from the URL, else `tickstream`. */
  readonly userId?: string;
  readonly logger?: Logger;
  /** How often a cheap config read keeps the session alive while a query holds it. Default 60 s. */
  readonly keepAliveIntervalMs?: number;
  /** Deadline of config, analyze and streaming-query calls. Default 60 s. */
  readonly requestTimeoutMs?: number;
  /** Deadline of executeRelation/sql; none by default, since a batch query may run long. */
  readonly queryTimeoutMs?: number;
}

const CLIENT_TYPE = 'tickstream';
/** Spark sends Arrow batches of up to 128 MiB (spark.connect.grpc.arrow.maxBatchSize); grpc-js accepts 4 MiB by default. */
const MAX_MESSAGE_BYTES = 128 * 1024 * 1024;
const DEFAULT_KEEP_ALIVE_MS = 60_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
/** A cheap read the server answers from the session's SQLConf, touching the session. */
const KEEP_ALIVE_KEY = 'spark.sql.session.timeZone';

/**
 * A Spark Connect client over gRPC: one server session (a persisted UUID), config, batch
 * queries as rows, and the DataFrame builder and streaming-query handles on top.
 * Plans run without reattach options, so every ExecutePlan is one plain response stream.
 * close() closes the channel but never stops queries or releases the session: queries keep
 * running on the server until they are stopped or the session expires.
 */
export class SparkConnectClient implements PlanRunner {
  readonly sessionId: string;
  readonly userId: string;
  readonly logger: Logger;
  readonly streams: StreamingQueryManager;
  readonly conf: RuntimeConfig;

  readonly #target: SparkConnectTarget;
  readonly #client: Client;
  readonly #metadata: Metadata;
  readonly #requestTimeoutMs: number;
  readonly #queryTimeoutMs: number | undefined;
  readonly #keepAliveIntervalMs: number;
  readonly #holds = new Map<symbol, string>();
  readonly #calls = new Set<{ cancel(): void }>();
  #keepAliveTimer: ReturnType<typeof setInterval> | undefined;
  #keepAliveInFlight = false;
  #closed = false;

  constructor(options: SparkConnectClientOptions) {
    this.#target = parseConnectionString(options.url);
    this.logger = options.logger ?? silentLogger;
    this.userId = options.userId ?? this.#target.userId ?? 'tickstream';
    this.sessionId = resolveSessionId(this.#target, options.sessionIdFile);
    this.#requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.#queryTimeoutMs = options.queryTimeoutMs;
    this.#keepAliveIntervalMs = options.keepAliveIntervalMs ?? DEFAULT_KEEP_ALIVE_MS;
    const channelOptions: ChannelOptions = {
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
      'grpc.primary_user_agent': this.#target.userAgent ?? CLIENT_TYPE,
    };
    const creds = this.#target.useSsl ? credentials.createSsl() : credentials.createInsecure();
    this.#client = new Client(this.#target.address, creds, channelOptions);
    this.#metadata = new Metadata();
    for (const [k, v] of Object.entries(this.#target.headers)) this.#metadata.set(k, v);
    if (this.#target.token !== undefined) this.#metadata.set('authorization', `Bearer ${this.#target.token}`);
    this.streams = new StreamingQueryManager(this);
    this.conf = new RuntimeConfig((op) => this.#config(op));
  }

  get address(): string {
    return this.#target.address;
  }

  get #userContext(): UserContext {
    return { user_id: this.userId };
  }

  // ---- DataFrame entry points ----

  get readStream(): DataStreamReader {
    return new DataStreamReader(this);
  }

  get read(): DataFrameReader {
    return new DataFrameReader(this);
  }

  /** A lazy DataFrame over a SQL query (run it with collect(), or build on it). */
  sqlFrame(query: string): DataFrame {
    return new DataFrame({ sql: { query } }, this);
  }

  /** Runs SQL and returns its rows. */
  async sql(query: string): Promise<Row[]> {
    return this.executeRelation({ sql: { query } });
  }

  // ---- execution ----

  async executeRelation(relation: Relation): Promise<Row[]> {
    const responses = await this.#execute({ root: relation }, this.#queryTimeoutMs);
    const rows: Row[] = [];
    for (const r of responses) {
      const data = r.arrow_batch?.data;
      if (data && data.length > 0) rows.push(...arrowBatchToRows(data));
    }
    return rows;
  }

  async executeCommand(command: Command): Promise<ExecutePlanResponse[]> {
    return this.#execute({ command }, this.#requestTimeoutMs);
  }

  /** The server's Spark version, e.g. `3.5.5`. */
  async sparkVersion(): Promise<string> {
    const { AnalyzePlan } = sparkConnectProtocol().methods;
    const response = await this.#unary(AnalyzePlan, 'AnalyzePlan', {
      session_id: this.sessionId,
      user_context: this.#userContext,
      client_type: CLIENT_TYPE,
      spark_version: {},
    });
    return response.spark_version?.version ?? '';
  }

  // ---- session keep-alive ----

  holdSession(reason: string): () => void {
    this.#assertOpen();
    const key = Symbol(reason);
    this.#holds.set(key, reason);
    if (!this.#keepAliveTimer) {
      this.#keepAliveTimer = setInterval(() => void this.#keepAlive(), this.#keepAliveIntervalMs);
      this.logger.debug('session keep-alive on', { session: this.sessionId, every_ms: this.#keepAliveIntervalMs });
    }
    return () => {
      this.#holds.delete(key);
      if (this.#holds.size === 0) this.#stopKeepAlive();
    };
  }

  /** What currently keeps the session alive (for status output). */
  get sessionHolds(): readonly string[] {
    return [...this.#holds.values()];
  }

  /** Whether the keep-alive timer runs. */
  get keepingAlive(): boolean {
    return this.#keepAliveTimer !== undefined;
  }

  async #keepAlive(): Promise<void> {
    if (this.#keepAliveInFlight || this.#closed) return;
    this.#keepAliveInFlight = true;
    try {
      await this.conf.getOption(KEEP_ALIVE_KEY);
    } catch (error) {
      // The next tick tries again; a session that expired meanwhile shows up as the query's own error.
      this.logger.warn('session keep-alive failed', { session: this.sessionId, error: (error as Error).message });
    } finally {
      this.#keepAliveInFlight = false;
    }
  }

  #stopKeepAlive(): void {
    if (this.#keepAliveTimer) clearInterval(this.#keepAliveTimer);
    this.#keepAliveTimer = undefined;
  }

  /** Closes the channel. Streaming queries keep running on the server (see the class comment). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopKeepAlive();
    this.#holds.clear();
    for (const call of this.#calls) call.cancel();
    this.#client.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  // ---- gRPC ----

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError('Spark Connect client');
  }

  #callOptions(timeoutMs: number | undefined): CallOptions {
    return timeoutMs === undefined ? {} : { deadline: Date.now() + timeoutMs };
  }

  async #config(operation: ConfigOperation): Promise<ConfigResponse> {
    const { Config } = sparkConnectProtocol().methods;
    const response = await this.#unary(Config, 'Config', {
      session_id: this.sessionId,
      user_context: this.#userContext,
      operation,
      client_type: CLIENT_TYPE,
    });
    for (const w of response.warnings ?? []) this.logger.warn('Spark config warning', { warning: w });
    return response;
  }

  #unary<Req, Res>(
    method: { path: string; requestSerialize: (r: Req) => Buffer; responseDeserialize: (b: Buffer) => Res },
    rpc: string,
    request: Req,
  ): Promise<Res> {
    this.#assertOpen();
    return new Promise<Res>((resolve, reject) => {
      const call = this.#client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        this.#metadata,
        this.#callOptions(this.#requestTimeoutMs),
        (error, response) => {
          this.#calls.delete(call);
          if (error) reject(toSparkError(rpc, error, this.#target.address));
          else if (response === undefined) reject(new SparkError(`Spark Connect ${rpc} returned no response`));
          else resolve(response);
        },
      );
      this.#calls.add(call);
    });
  }

  #execute(plan: Plan, timeoutMs: number | undefined): Promise<ExecutePlanResponse[]> {
    this.#assertOpen();
    const { ExecutePlan } = sparkConnectProtocol().methods;
    const request: ExecutePlanRequest = {
      session_id: this.sessionId,
      user_context: this.#userContext,
      plan,
      client_type: CLIENT_TYPE,
      operation_id: randomUUID(),
    };
    return new Promise<ExecutePlanResponse[]>((resolve, reject) => {
      const responses: ExecutePlanResponse[] = [];
      const call = this.#client.makeServerStreamRequest(
        ExecutePlan.path,
        ExecutePlan.requestSerialize,
        ExecutePlan.responseDeserialize,
        request,
        this.#metadata,
        this.#callOptions(timeoutMs),
      );
      this.#calls.add(call);
      call.on('data', (r: ExecutePlanResponse) => {
        if (r.session_id && r.session_id !== this.sessionId) {
          call.cancel();
          reject(new SparkError(`Spark Connect answered for session ${r.session_id}, not ${this.sessionId}`));
          return;
        }
        responses.push(r);
      });
      call.on('error', (error: ServiceError) => {
        this.#calls.delete(call);
        reject(this.#closed ? new ClosedError('Spark Connect client') : toSparkError('ExecutePlan', error, this.#target.address));
      });
      call.on('end', () => {
        this.#calls.delete(call);
        resolve(responses);
      });
    });
  }
}

/** spark.conf: the session's runtime SQL configuration. */
export class RuntimeConfig {
  readonly #send: (op: ConfigOperation) => Promise<ConfigResponse>;

  constructor(send: (op: ConfigOperation) => Promise<ConfigResponse>) {
    this.#send = send;
  }

  /** The value, or an error from the server when the key is unknown and has no default. */
  async get(key: string): Promise<string> {
    const pairs = (await this.#send({ get: { keys: [key] } })).pairs ?? [];
    return pairs.find((p) => p.key === key)?.value ?? '';
  }

  /** The value, or undefined when the key is not set. */
  async getOption(key: string): Promise<string | undefined> {
    const pairs = (await this.#send({ get_option: { keys: [key] } })).pairs ?? [];
    return pairs.find((p) => p.key === key)?.value;
  }

  async getAll(prefix?: string): Promise<Record<string, string>> {
    const pairs = (await this.#send({ get_all: prefix === undefined ? {} : { prefix } })).pairs ?? [];
    return Object.fromEntries(pairs.map((p) => [p.key, p.value ?? '']));
  }

  async set(values: Readonly<Record<string, string | number | boolean>>): Promise<void> {
    await this.#send({ set: { pairs: Object.entries(values).map(([key, value]) => ({ key, value: String(value) })) } });
  }

  async unset(...keys: readonly string[]): Promise<void> {
    await this.#send({ unset: { keys } });
  }
}

function resolveSessionId(target: SparkConnectTarget, sessionIdFile: string | undefined): string {
  if (target.sessionId !== undefined) {
    if (!isUuid(target.sessionId)) throw new SparkError(`session_id in the Spark Connect URL must be a UUID, got ${JSON.stringify(target.sessionId)}`);
    return target.sessionId.toLowerCase();
  }
  return sessionIdFile === undefined ? randomUUID() : loadOrCreateSessionId(sessionIdFile);
}

/**
 * A gRPC failure as a SparkError with the server's message; UNAVAILABLE (server down or restarting)
 * can be retried. When no connection could be made, the message names the server (`address`) and
 * the connection's own error, as for Kafka and Cassandra, instead of gRPC's wording around it.
 */
export function toSparkError(rpc: string, error: unknown, address?: string): SparkError {
  if (error instanceof SparkError) return error;
  const e = error as Partial<ServiceError>;
  if (typeof e.code === 'number') {
    const name = status[e.code] ?? String(e.code);
    const detail = (e.details || e.message || 'no message').replace(/\s*Resolution note:\s*$/, '').trim();
    const unreachable = e.code === status.UNAVAILABLE ? /^No connection established\. Last error: (?:Error: )?(.+?)\.?$/s.exec(detail) : null;
    if (unreachable !== null && address !== undefined) {
      return new SparkError(`Spark Connect at sc://${address} did not answer (${rpc}): ${unreachable[1]}; is it running? (tickstream stack up spark)`, {
        canRetry: true,
        cause: error,
      });
    }
    return new SparkError(`Spark Connect ${rpc} failed (${name}): ${detail}`, {
      canRetry: e.code === status.UNAVAILABLE,
      cause: error,
    });
  }
  return new SparkError(`Spark Connect ${rpc} failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
}
