import { Producer } from '@platformatic/kafka';
import { BusUnavailableError } from '../../errors.ts';
import { silentLogger, type Logger } from '../../observability/index.ts';
import type { SideLog } from '../bus.ts';
import { ACKS_ALL, clientBase, closeClient, messageOf, type KafkaCompression, type KafkaConnection } from './kafka-options.ts';

export interface KafkaSideLogOptions extends KafkaConnection {
  /** `market.trades.dlq` or `market.trades.late`. */
  readonly topic: string;
  /** Wait between attempts while Kafka is away. */
  readonly retryDelayMs?: number;
  /** lz4 unless given (`kafka.compression`). */
  readonly compression?: KafkaCompression;
  readonly logger?: Logger;
}

/**
 * A side topic with JSON values. Entries are few, so there is no spool: `append` keeps
 * retrying until Kafka takes them, and fails only if the log is closed meanwhile.
 */
export class KafkaSideLog<T> implements SideLog<T> {
  readonly topic: string;
  readonly #client: Producer<Buffer, Buffer, Buffer, Buffer>;
  readonly #retryDelayMs: number;
  readonly #log: Logger;
  #closed = false;
  #wake: (() => void) | undefined;

  constructor(options: KafkaSideLogOptions) {
    this.topic = options.topic;
    this.#retryDelayMs = options.retryDelayMs ?? 1_000;
    this.#log = options.logger ?? silentLogger;
    this.#client = new Producer({ ...clientBase(options, options.topic), acks: ACKS_ALL, compression: options.compression ?? 'lz4' });
  }

  async append(entries: readonly T[]): Promise<void> {
    if (entries.length === 0) return;
    const messages = entries.map((e) => ({ topic: this.topic, value: Buffer.from(JSON.stringify(e), 'utf8') }));
    for (let attempt = 1; ; attempt++) {
      if (this.#closed) throw new BusUnavailableError(`${this.topic} closed with ${entries.length} entries not written`);
      try {
        await this.#client.send({ messages });
        return;
      } catch (error) {
        this.#log.warn('side topic write failed; retrying', { topic: this.topic, attempt, error: messageOf(error) });
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(this.#retryDelayMs * attempt, 10 * this.#retryDelayMs));
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.#wake = undefined;
      }
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake?.();
    await closeClient(this.#client).catch((error: unknown) => this.#log.warn('closing a side topic failed', { error: messageOf(error) }));
  }
}
