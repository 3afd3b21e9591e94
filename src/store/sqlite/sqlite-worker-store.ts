import { Worker } from 'node:worker_threads';
import type { Bar } from '../../domain/index.ts';
import { StoreUnavailableError } from '../../errors.ts';
import { silentLogger, type Logger } from '../../observability/index.ts';
import type { BarQuery, Checkpoint, FlushBatch, MigrationResult, Store, StoredTrade, TradeQuery } from '../store.ts';
import { packedTradesOf, transferListOf } from '../packed-trades.ts';
import { SqliteStore } from './sqlite-store.ts';
import { fromWireError, type SqliteWorkerData, type StoreReply, type StoreRequest, type WorkerLogLine } from './worker-protocol.ts';

export interface SqliteWorkerStoreOptions {
  /** The database file; `:memory:` for a private in-memory one (then reads go through the worker too). */
  readonly path: string;
  readonly logger?: Logger;
  /** Rows per multi-row INSERT. */
  readonly chunkRows?: number;
  /** How long a connection waits for a lock held by the other one. */
  readonly busyTimeoutMs?: number;
  /** How long close() waits for the worker to exit before stopping it. */
  readonly closeTimeoutMs?: number;
}

type Call = { [K in StoreRequest['op']]: Omit<Extract<StoreRequest, { op: K }>, 'id'> }[StoreRequest['op']];

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

interface Running {
  readonly worker: Worker;
  readonly exited: Promise<number>;
}

/**
 * The embedded store with SQLite writes on a worker thread, so the second core inserts
 * while the main thread parses and aggregates. Trades cross packed column-wise in
 * transferred buffers. write() resolves once the worker's transaction has committed, so
 * the engine still commits offsets only after the store has the batch.
 *
 * Reads use a second connection on the main thread (WAL lets it read while the worker
 * writes): an HTTP query then costs a short index range read instead of a wait behind a
 * write transaction in the worker's queue plus two message hops.
 *
 * If the worker dies, every pending call rejects with StoreUnavailableError (canRetry) and
 * the next call starts a fresh worker.
 */
export class SqliteWorkerStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly #data: SqliteWorkerData;
  readonly #log: Logger;
  readonly #closeTimeoutMs: number;
  readonly #reader: SqliteStore | undefined;
  readonly #pending = new Map<number, Pending>();
  #running: Running | undefined;
  #nextId = 1;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: SqliteWorkerStoreOptions) {
    this.#log = options.logger ?? silentLogger;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
    this.#data = {
      path: options.path,
      ...(options.chunkRows === undefined ? {} : { chunkRows: options.chunkRows }),
      ...(options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs }),
    };
    const inMemory = options.path === ':memory:' || options.path === '';
    // Opened here, synchronously: it creates the file and its directory in WAL mode before the
    // worker opens it, and a path that is not a database fails at once, as SqliteStore does.
    this.#reader = inMemory
      ? undefined
      : new SqliteStore({
          path: options.path,
          logger: this.#log,
          ...(options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs }),
        });
    this.#running = this.#spawn();
  }

  migrate(): Promise<MigrationResult> {
    return this.#call({ op: 'migrate' }) as Promise<MigrationResult>;
  }

  async write(batch: FlushBatch): Promise<void> {
    if (this.#closed) throw this.#closedError();
    const trades = packedTradesOf(batch);
    // Trades packed here can move to the worker. Packed trades the batch carries are copied
    // instead: the batch must stay whole for a retry, and the copy costs a few milliseconds a
    // second at full speed, where packing them again from objects would cost an object per trade.
    const transfer = batch.packedTrades === undefined ? transferListOf(trades) : [];
    await this.#call({ op: 'write', trades, bars: batch.bars, checkpoints: batch.checkpoints }, transfer);
  }

  bars(query: BarQuery): Promise<Bar[]> {
    if (this.#reader !== undefined && !this.#closed) return this.#reader.bars(query);
    return this.#call({ op: 'bars', query }) as Promise<Bar[]>;
  }

  trades(query: TradeQuery): Promise<StoredTrade[]> {
    if (this.#reader !== undefined && !this.#closed) return this.#reader.trades(query);
    return this.#call({ op: 'trades', query }) as Promise<StoredTrade[]>;
  }

  symbols(): Promise<string[]> {
    if (this.#reader !== undefined && !this.#closed) return this.#reader.symbols();
    return this.#call({ op: 'symbols' }) as Promise<string[]>;
  }

  checkpoints(engineId: string): Promise<Map<number, Checkpoint>> {
    if (this.#reader !== undefined && !this.#closed) return this.#reader.checkpoints(engineId);
    return this.#call({ op: 'checkpoints', engineId }) as Promise<Map<number, Checkpoint>>;
  }

  /** Waits for the calls already made, closes the database in the worker and lets the worker exit. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** Test hook: makes the worker throw from its message handler, as a bug in it would. */
  crashWorkerForTest(): void {
    const running = this.#running;
    if (running === undefined) return;
    running.worker.ref();
    running.worker.postMessage({ id: 0, op: 'crash' } satisfies StoreRequest);
  }

  async #close(): Promise<void> {
    this.#closed = true;
    let failure: unknown;
    // The reader goes first, so the worker's connection is the last one and SQLite's final
    // checkpoint runs on the worker thread.
    try {
      await this.#reader?.close();
    } catch (error) {
      failure = error;
    }
    const running = this.#running;
    if (running !== undefined) {
      running.worker.ref();
      try {
        // Requests are answered in order, so this waits for every pending write first.
        await this.#send(running, { op: 'close' });
      } catch (error) {
        failure ??= error;
      }
      const exited = await Promise.race([running.exited, delay(this.#closeTimeoutMs).then(() => undefined)]);
      if (exited === undefined) {
        this.#log.warn('sqlite store worker did not exit after close; stopping it', { path: this.#data.path });
        await running.worker.terminate();
      }
    }
    if (failure !== undefined) throw failure;
  }

  #call(call: Call, transfer?: ArrayBuffer[]): Promise<unknown> {
    if (this.#closed) return Promise.reject(this.#closedError());
    this.#running ??= this.#spawn();
    return this.#send(this.#running, call, transfer);
  }

  #send(running: Running, call: Call, transfer?: ArrayBuffer[]): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      try {
        running.worker.postMessage({ ...call, id }, transfer);
      } catch (error) {
        reject(new StoreUnavailableError(`cannot send a ${call.op} request to the SQLite store worker: ${error instanceof Error ? error.message : String(error)}`, { canRetry: false, cause: error }));
        return;
      }
      this.#pending.set(id, { resolve, reject });
      // Only an outstanding call keeps the process alive; an idle store does not.
      if (this.#pending.size === 1) running.worker.ref();
    });
  }

  #spawn(): Running {
    const worker = startWorker(this.#data);
    worker.unref();
    let lastError: Error | undefined;
    worker.on('message', (message: StoreReply | WorkerLogLine) => {
      if ('log' in message) {
        this.#log[message.log](message.message, message.fields);
        return;
      }
      this.#settle(message);
    });
    worker.on('error', (error) => {
      lastError = error;
    });
    const exited = new Promise<number>((resolve) => {
      worker.once('exit', (code) => {
        if (this.#running?.worker === worker) this.#running = undefined;
        this.#workerExited(code, lastError);
        resolve(code);
      });
    });
    return { worker, exited };
  }

  #settle(reply: StoreReply): void {
    const pending = this.#pending.get(reply.id);
    if (pending === undefined) return;
    this.#pending.delete(reply.id);
    // While closing, the worker stays referenced until it has exited.
    if (this.#pending.size === 0 && !this.#closed) this.#running?.worker.unref();
    if (reply.ok) pending.resolve(reply.value);
    else pending.reject(fromWireError(reply.error));
  }

  #workerExited(code: number, error: Error | undefined): void {
    if (this.#pending.size === 0 && error === undefined && this.#closed) return;
    const reason = error === undefined ? '' : `: ${error.message}`;
    const message = `the SQLite store worker for ${this.#data.path} stopped (exit code ${code})${reason}`;
    this.#log.error('sqlite store worker stopped', { path: this.#data.path, code, error: error?.message, pending: this.#pending.size });
    const failure = new StoreUnavailableError(message, { canRetry: !this.#closed, ...(error === undefined ? {} : { cause: error }) });
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(failure);
  }

  #closedError(): StoreUnavailableError {
    return new StoreUnavailableError(`the SQLite store at ${this.#data.path} is closed`, { canRetry: false });
  }
}

/**
 * Starts sqlite-worker next to this file: the .js one after a build. Run from sources
 * (tsx), the worker is a .ts file, and a worker thread does not inherit the loader hooks
 * that `--import tsx` installed on Node 20, so the worker registers tsx before importing it.
 */
function startWorker(data: SqliteWorkerData): Worker {
  const fromSources = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSources ? './sqlite-worker.ts' : './sqlite-worker.js', import.meta.url);
  if (!fromSources) return new Worker(entry, { workerData: data });
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(boot, { eval: true, workerData: data });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
