import { Worker } from 'node:worker_threads';
import { BusUnavailableError } from '../../errors.ts';
import type { Logger } from '../../observability/index.ts';
import type { ClientSenderOptions, RecordSender } from './kafka-record-sender.ts';
import { packRecords, type SendReply, type SendRequest, type SendWorkerData, type SendWorkerLogLine } from './kafka-send-wire.ts';
import type { SpooledRecord } from './trade-spool.ts';

interface Pending {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** How long close() waits for the worker to close its Kafka client before ending it. */
const CLOSE_WAIT_MS = 5_000;

/**
 * A RecordSender whose Kafka client lives in a worker thread: a batch is packed into one
 * buffer, handed over without a copy, and sent there. The worker is started with the
 * sender; if it dies, the sends in flight fail (the producer spools them) and the next send
 * starts a new one.
 */
export class WorkerSender implements RecordSender {
  readonly #data: SendWorkerData;
  readonly #log: Logger;
  readonly #pending = new Map<number, Pending>();
  #worker: Worker | undefined;
  #nextId = 0;

  constructor(options: ClientSenderOptions, logger: Logger) {
    this.#data = { brokers: [...options.brokers], clientId: options.clientId, compression: options.compression };
    this.#log = logger;
    // Started now, not at the first send: loading the Kafka client into a fresh thread takes
    // a while, and the first trades would wait for it.
    this.#worker = this.#spawn();
    this.#worker.unref();
  }

  send(topic: string, records: readonly SpooledRecord[]): Promise<void> {
    const batch = packRecords(records);
    const worker = (this.#worker ??= this.#spawn());
    const id = ++this.#nextId;
    return new Promise<void>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.ref();
      const request: SendRequest = { id, topic, batch };
      worker.postMessage(request, [batch.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker === undefined) return;
    worker.ref();
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage('close');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), CLOSE_WAIT_MS)));
    if ((await Promise.race([exited, late])) === 'late') await worker.terminate();
    clearTimeout(timer);
  }

  #spawn(): Worker {
    const worker = startWorker(this.#data);
    let lastError: Error | undefined;
    worker.on('message', (message: SendReply | SendWorkerLogLine) => {
      if ('log' in message) {
        this.#log[message.log](message.message, message.fields);
        return;
      }
      const pending = this.#pending.get(message.id);
      if (pending === undefined) return;
      this.#pending.delete(message.id);
      // Only a send in flight keeps the process alive; an idle worker does not.
      if (this.#pending.size === 0) worker.unref();
      if (message.ok) pending.resolve();
      else pending.reject(new BusUnavailableError(message.message));
    });
    worker.on('error', (error) => {
      lastError = error;
    });
    worker.once('exit', (code) => {
      if (this.#worker === worker) this.#worker = undefined;
      if (this.#pending.size === 0) return;
      const reason = lastError === undefined ? '' : `: ${lastError.message}`;
      this.#log.error('Kafka send worker stopped', { code, error: lastError?.message, pending: this.#pending.size });
      const failure = new BusUnavailableError(`the Kafka send worker stopped (exit code ${code})${reason}`, lastError === undefined ? {} : { cause: lastError });
      const pending = [...this.#pending.values()];
      this.#pending.clear();
      for (const p of pending) p.reject(failure);
    });
    return worker;
  }
}

/**
 * Starts kafka-send-worker next to this file: the .js one after a build. Run from sources
 * (tsx), a worker thread does not inherit the loader hooks that `--import tsx` installed on
 * Node 20, so the worker registers tsx before importing the .ts entry.
 */
function startWorker(data: SendWorkerData): Worker {
  const fromSources = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSources ? './kafka-send-worker.ts' : './kafka-send-worker.js', import.meta.url);
  if (!fromSources) return new Worker(entry, { workerData: data });
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(boot, { eval: true, workerData: data });
}
