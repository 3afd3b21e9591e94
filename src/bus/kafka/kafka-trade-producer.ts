import { join } from 'node:path';
import { durationLabel, type Trade } from '../../domain/index.ts';
import { BusUnavailableError, ClosedError } from '../../errors.ts';
import { counted, silentLogger, type Logger } from '../../observability/index.ts';
import { TOPICS, type TradeLogProducer } from '../bus.ts';
import { messageOf, type KafkaCompression, type KafkaConnection } from './kafka-options.ts';
import { ClientSender, type RecordSender } from './kafka-record-sender.ts';
import { createTradeCodec, type TradeCodec, type TradeFormat } from './trade-codec.ts';
import { recordBytes, TradeSpool, type SpooledRecord } from './trade-spool.ts';

export interface KafkaTradeProducerOptions extends KafkaConnection {
  readonly format: TradeFormat;
  /** The spool goes to `<dataDir>/spool/`. */
  readonly dataDir: string;
  /** Most trades kept in the spool while Kafka is away (`kafka.spoolLimit`). */
  readonly spoolLimit: number;
  /** Size past which the spool starts a new segment file (16 MiB unless given; tests make it small). */
  readonly spoolSegmentBytes?: number;
  readonly topic?: string;
  /** lz4 unless given (`kafka.compression`). */
  readonly compression?: KafkaCompression;
  /** How long the first trades of a batch wait for more before they are sent. */
  readonly lingerMs?: number;
  /** Most records in one produce request. */
  readonly maxBatch?: number;
  /** Wait between attempts to send the spool while Kafka is away. */
  readonly retryDelayMs?: number;
  /** How long close() keeps trying to empty the spool; what is left stays on disk for the next start. */
  readonly closeTimeoutMs?: number;
  readonly logger?: Logger;
}

interface Pending {
  readonly records: SpooledRecord[];
  /** Key and value bytes of the records. */
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Most key and value bytes in one send. A broker refuses a record batch (one per partition,
 * after compression) over its `message.max.bytes`, 1 MiB by default, and no retry would ever
 * get it through: the spool would never drain. This leaves room for the records' framing.
 */
export const MAX_SEND_BYTES = 768 * 1024;

/** While sends keep failing for the same reason, how often that is logged again. */
const FAILURE_LOG_EVERY_MS = 60_000;

/** Distinct symbols whose key Buffer is kept; past it the cache starts over (a stream of junk symbols cannot grow memory). */
const KEY_CACHE_LIMIT = 4_096;

/**
 * Appends trades to `market.trades` with key = symbol: idempotent, acks=all, compressed,
 * batched. One send is in flight at a time, so records reach each partition in the order
 * they were appended. When a send fails (broker down or too slow) the records go to an
 * on-disk spool, and every later append goes behind them until a background loop has
 * sent the spool in order; then appends go straight to Kafka again. `append` resolves
 * once its trades are acknowledged by Kafka or durably spooled.
 */
export class KafkaTradeProducer implements TradeLogProducer {
  readonly #topic: string;
  readonly #codec: TradeCodec;
  /** UTF-8 symbol → the same key Buffer every time, so the partitioner can remember its partition. */
  readonly #keys = new Map<string, Buffer>();
  readonly #lingerMs: number;
  readonly #maxBatch: number;
  readonly #retryDelayMs: number;
  readonly #closeTimeoutMs: number;
  readonly #log: Logger;
  readonly #spool: TradeSpool;
  readonly #sender: RecordSender;
  #queue: Pending[] = [];
  #queued = 0;
  #pumpWake: (() => void) | undefined;
  #pump: Promise<void>;
  #drainer: Promise<void> | undefined;
  #drainWake: (() => void) | undefined;
  /** Size of the batch that failed last: resent alone first, so the broker can recognise a duplicate. */
  #failedBatch = 0;
  #closing = false;
  #drainDeadline = Number.POSITIVE_INFINITY;
  #sent = 0;
  /** The last failed send's reason and when it was logged: a retry failing the same way is logged once a minute, not every time. */
  #lastFailure: { readonly message: string; readonly atMs: number } | undefined;

  constructor(options: KafkaTradeProducerOptions) {
    this.#topic = options.topic ?? TOPICS.trades;
    this.#codec = createTradeCodec(options.format);
    this.#lingerMs = options.lingerMs ?? 5;
    this.#maxBatch = options.maxBatch ?? 5_000;
    this.#retryDelayMs = options.retryDelayMs ?? 1_000;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
    this.#log = options.logger ?? silentLogger;
    this.#spool = new TradeSpool({
      dir: join(options.dataDir, 'spool'),
      limit: options.spoolLimit,
      ...(options.spoolSegmentBytes === undefined ? {} : { segmentBytes: options.spoolSegmentBytes }),
      onRepair: (segment, kept, dropped) => this.#log.warn('spool tail was torn; cut off', { segment, kept, dropped }),
      target: { topic: this.#topic, format: options.format },
    });
    const senderOptions = {
      brokers: options.brokers,
      clientId: options.clientId,
      compression: options.compression ?? 'lz4',
      ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
    };
    this.#sender = new ClientSender(senderOptions, this.#log);
    if (this.#spool.depth > 0) {
      this.#log.info('spool from an earlier run will be sent first', { trades: this.#spool.depth });
      this.#ensureDrainer();
    }
    this.#pump = this.#runPump();
  }

  /** Trades waiting in the on-disk spool (for `stats`). */
  spoolDepth(): number {
    return this.#spool.depth;
  }

  /** Trades acknowledged by Kafka since start. */
  get sent(): number {
    return this.#sent;
  }

  append(trades: readonly Trade[]): Promise<void> {
    if (this.#closing) return Promise.reject(new ClosedError('Kafka producer'));
    if (trades.length === 0) return Promise.resolve();
    const values = this.#codec.encodeAll(trades);
    // One append becomes as many sends as the size limits need; it settles when all have.
    const parts: Promise<void>[] = [];
    let records: SpooledRecord[] = [];
    let bytes = 0;
    for (let i = 0; i < trades.length; i++) {
      const record = { key: this.#keyOf(trades[i]!.symbol), value: values[i]! };
      const size = recordBytes(record);
      if (records.length > 0 && (records.length >= this.#maxBatch || bytes + size > MAX_SEND_BYTES)) {
        parts.push(this.#enqueue(records, bytes));
        records = [];
        bytes = 0;
      }
      records.push(record);
      bytes += size;
    }
    parts.push(this.#enqueue(records, bytes));
    return parts.length === 1 ? parts[0]! : Promise.all(parts).then(() => undefined);
  }

  #enqueue(records: SpooledRecord[], bytes: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ records, bytes, resolve, reject });
      this.#queued += records.length;
      this.#wakePump();
    });
  }

  async close(): Promise<void> {
    if (this.#closing) {
      await this.#pump;
      return;
    }
    this.#closing = true;
    this.#wakePump();
    await this.#pump;
    this.#drainDeadline = Date.now() + this.#closeTimeoutMs;
    if (this.#spool.depth > 0) {
      // A stop that seems to hang says why; what Kafka does not take in time stays on disk.
      this.#log.info(`sending the spool before stopping, for up to ${durationLabel(this.#closeTimeoutMs)}`, { trades: this.#spool.depth });
    }
    this.#drainWake?.();
    await this.#drainer;
    if (this.#spool.depth > 0) this.#log.warn('closing with trades still spooled; they are sent at the next start', { trades: this.#spool.depth });
    this.#spool.close();
    await this.#sender.close().catch((error: unknown) => this.#log.warn('closing the Kafka producer failed', { error: messageOf(error) }));
  }

  #keyOf(symbol: string): Buffer {
    let key = this.#keys.get(symbol);
    if (key === undefined) {
      if (this.#keys.size >= KEY_CACHE_LIMIT) this.#keys.clear();
      key = Buffer.from(symbol, 'utf8');
      this.#keys.set(symbol, key);
    }
    return key;
  }

  #wakePump(): void {
    const wake = this.#pumpWake;
    this.#pumpWake = undefined;
    wake?.();
  }

  /** Takes queued parts of appends, up to maxBatch records and MAX_SEND_BYTES (whole parts only, at least one). */
  #takeBatch(): Pending[] {
    const taken: Pending[] = [];
    let n = 0;
    let bytes = 0;
    while (this.#queue.length > 0) {
      const next = this.#queue[0]!;
      if (taken.length > 0 && (n + next.records.length > this.#maxBatch || bytes + next.bytes > MAX_SEND_BYTES)) break;
      this.#queue.shift();
      taken.push(next);
      n += next.records.length;
      bytes += next.bytes;
    }
    this.#queued -= n;
    return taken;
  }

  async #runPump(): Promise<void> {
    for (;;) {
      if (this.#queue.length === 0) {
        if (this.#closing) return;
        await new Promise<void>((resolve) => (this.#pumpWake = resolve));
        continue;
      }
      if (this.#queued < this.#maxBatch && this.#lingerMs > 0 && !this.#closing) {
        await new Promise((resolve) => setTimeout(resolve, this.#lingerMs));
      }
      const batch = this.#takeBatch();
      const records = batch.flatMap((p) => p.records);
      try {
        if (this.#spool.depth === 0 && (await this.#trySend(records))) {
          this.#sent += records.length;
        } else {
          if (this.#spool.depth === 0) this.#failedBatch = records.length;
          await this.#spool.append(records);
          this.#ensureDrainer();
        }
        for (const p of batch) p.resolve();
      } catch (error) {
        // Only the spool can throw here (disk full, closed): the trades are neither sent nor kept.
        const failure = new BusUnavailableError(`could not send or spool ${counted(records.length, 'trade')}: ${messageOf(error)}`, { cause: error });
        for (const p of batch) p.reject(failure);
      }
    }
  }

  async #trySend(records: readonly SpooledRecord[]): Promise<boolean> {
    try {
      await this.#sender.send(this.#topic, records);
      this.#lastFailure = undefined;
      return true;
    } catch (error) {
      const message = messageOf(error);
      const now = Date.now();
      const last = this.#lastFailure;
      if (last === undefined || last.message !== message || now - last.atMs >= FAILURE_LOG_EVERY_MS) {
        this.#log.warn('Kafka send failed; spooling', { trades: records.length, error: message });
        this.#lastFailure = { message, atMs: now };
      }
      return false;
    }
  }

  #ensureDrainer(): void {
    this.#drainer ??= this.#drain().finally(() => {
      this.#drainer = undefined;
      // An append may have reached the spool just as the loop ended.
      if (this.#spool.depth > 0 && !(this.#closing && Date.now() >= this.#drainDeadline)) this.#ensureDrainer();
    });
  }

  /**
   * Sends the spool in order, oldest first, until it is empty. A spool that cannot be read (a
   * segment file removed under it) waits like a failed send: the loop must not spin, since the
   * drainer is started again for as long as the spool holds records.
   */
  async #drain(): Promise<void> {
    let failures = 0;
    while (this.#spool.depth > 0) {
      if (this.#closing && Date.now() >= this.#drainDeadline) return;
      const max = this.#failedBatch > 0 ? this.#failedBatch : this.#maxBatch;
      let sent = false;
      try {
        const records = this.#spool.peek(max, MAX_SEND_BYTES);
        if (records.length === 0) throw new Error(`the spool holds ${counted(this.#spool.depth, 'trade')} but none could be read`);
        if (await this.#trySend(records)) {
          this.#spool.ack(records.length);
          this.#sent += records.length;
          this.#failedBatch = 0;
          sent = true;
        }
      } catch (error) {
        this.#log.error('reading the spool failed', { dir: this.#spool.dir, error: messageOf(error) });
      }
      if (sent) {
        if (failures > 0) this.#log.info('Kafka is back; sending the spool', { left: this.#spool.depth });
        failures = 0;
        continue;
      }
      failures++;
      // While closing, the wait ends at the deadline: a stop takes the close timeout (and the
      // try in flight then, which cannot be abandoned without sending its trades twice), not the backoff.
      const backoff = Math.min(this.#retryDelayMs * failures, 10 * this.#retryDelayMs);
      const delay = this.#closing ? Math.min(backoff, Math.max(0, this.#drainDeadline - Date.now())) : backoff;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.#drainWake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#drainWake = undefined;
    }
  }
}
