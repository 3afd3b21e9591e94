// The worker-thread side of SqliteWorkerStore: one SqliteStore, driven by messages.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { Logger, LogFields } from '../../observability/index.ts';
import { SqliteStore } from './sqlite-store.ts';
import { toWireError, type SqliteWorkerData, type StoreReply, type StoreRequest, type WorkerLogLine } from './worker-protocol.ts';

function portLogger(port: MessagePort): Logger {
  const send = (log: WorkerLogLine['log']) => (message: string, fields?: LogFields) => {
    const line: WorkerLogLine = { log, message, ...(fields === undefined ? {} : { fields }) };
    port.postMessage(line);
  };
  const logger: Logger = { debug: send('debug'), info: send('info'), warn: send('warn'), error: send('error'), child: () => logger };
  return logger;
}

async function answer(store: SqliteStore, request: StoreRequest): Promise<unknown> {
  switch (request.op) {
    case 'migrate':
      return store.migrate();
    case 'write':
      store.writePacked(request.trades, request.bars, request.checkpoints);
      return undefined;
    case 'bars':
      return store.bars(request.query);
    case 'trades':
      return store.trades(request.query);
    case 'symbols':
      return store.symbols();
    case 'checkpoints':
      return store.checkpoints(request.engineId);
    case 'close':
      return store.close();
    case 'crash':
      throw new Error('the SQLite store worker was told to crash');
    default: {
      const unknown: never = request;
      throw new Error(`unknown store request ${JSON.stringify(unknown)}`);
    }
  }
}

/**
 * The worker copies the WAL back into the database itself, after it has answered a write:
 * the copy and its fsync then overlap with the engine's next batch instead of delaying the
 * commit reply. SQLite's own checkpoint in the commit stays as a bound, set high.
 */
const CHECKPOINT_AFTER_ROWS = 20_000;
const CHECKPOINT_AFTER_MS = 200;
const WAL_AUTOCHECKPOINT_PAGES = 10_000;

function serve(port: MessagePort, data: SqliteWorkerData): void {
  const logger = portLogger(port);
  let store: SqliteStore | undefined;
  let openError: unknown;
  let rowsSinceCheckpoint = 0;
  let lastCheckpoint = performance.now();
  const checkpointIfDue = (s: SqliteStore, rows: number): void => {
    rowsSinceCheckpoint += rows;
    const now = performance.now();
    if (rowsSinceCheckpoint === 0 || (rowsSinceCheckpoint < CHECKPOINT_AFTER_ROWS && now - lastCheckpoint < CHECKPOINT_AFTER_MS)) return;
    rowsSinceCheckpoint = 0;
    lastCheckpoint = now;
    try {
      s.checkpointWal();
    } catch (error) {
      logger.warn('WAL checkpoint failed', { error: error instanceof Error ? error.message : String(error) });
    }
  };
  try {
    store = new SqliteStore({
      path: data.path,
      logger,
      walAutocheckpointPages: WAL_AUTOCHECKPOINT_PAGES,
      ...(data.chunkRows === undefined ? {} : { chunkRows: data.chunkRows }),
      ...(data.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: data.busyTimeoutMs }),
    });
  } catch (error) {
    // Every call is answered with the open error, so the caller sees it where it looks.
    openError = error;
  }
  const reply = (message: StoreReply): void => port.postMessage(message);
  port.on('message', (request: StoreRequest) => {
    // Thrown here, outside any promise, so the thread dies as it would on a real bug.
    if (request.op === 'crash') throw new Error('the SQLite store worker was told to crash');
    // Each store call does its SQLite work synchronously, so requests run one at a time in arrival order.
    const open = store;
    const result = open === undefined ? Promise.reject(openError) : answer(open, request);
    result.then(
      (value) => {
        reply({ id: request.id, ok: true, value });
        if (request.op === 'write' && open !== undefined) checkpointIfDue(open, request.trades.count + request.bars.length);
      },
      (error: unknown) => reply({ id: request.id, ok: false, error: toWireError(error) }),
    );
    if (request.op === 'close') void result.finally(() => port.close());
  });
}

if (parentPort === null) throw new Error('sqlite-worker runs as a worker thread of SqliteWorkerStore');
serve(parentPort, workerData as SqliteWorkerData);
