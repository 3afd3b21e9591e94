import { Producer, type Partitioner } from '@platformatic/kafka';
import type { Logger } from '../../observability/index.ts';
import { ACKS_ALL, clientBase, closeClient, findKafkaError, symbolPartitioner, type KafkaCompression, type KafkaConnection } from './kafka-options.ts';
import type { SpooledRecord } from './trade-spool.ts';

/** Sends one batch of encoded records to a topic; rejects when Kafka did not acknowledge them all. */
export interface RecordSender {
  send(topic: string, records: readonly SpooledRecord[]): Promise<void>;
  close(): Promise<void>;
}

export interface ClientSenderOptions extends KafkaConnection {
  readonly compression: KafkaCompression;
}

type Client = Producer<Buffer, Buffer, Buffer, Buffer>;

/**
 * The Kafka client that does the sending: idempotent, acks=all, compressed, key = symbol.
 * Whoever calls `send` keeps one call in flight at a time: the client numbers each
 * partition's batches only when they are acknowledged, so a second batch in flight would
 * reuse the first one's sequence numbers.
 */
export class ClientSender implements RecordSender {
  readonly #options: ClientSenderOptions;
  readonly #log: Logger;
  readonly #partitioner = cachedPartitioner();
  #client: Client;

  constructor(options: ClientSenderOptions, logger: Logger) {
    this.#options = options;
    this.#log = logger;
    this.#client = this.#newClient();
  }

  async send(topic: string, records: readonly SpooledRecord[]): Promise<void> {
    const messages = new Array<{ topic: string; key: Buffer; value: Buffer }>(records.length);
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      messages[i] = { topic, key: r.key, value: r.value };
    }
    try {
      await this.#client.send({ messages });
    } catch (error) {
      this.#afterFailure(error);
      throw error;
    }
  }

  close(): Promise<void> {
    return closeClient(this.#client);
  }

  #newClient(): Client {
    return new Producer({
      ...clientBase(this.#options, 'producer'),
      idempotent: true,
      acks: ACKS_ALL,
      compression: this.#options.compression,
      partitioner: this.#partitioner,
    });
  }

  /**
   * A broker that lost the producer's state, or saw a batch it cannot order, rejects every
   * later send from this producer id; a new client gets a new id. (The batch in doubt may
   * then be written twice: the price of not losing it.)
   */
  #afterFailure(error: unknown): void {
    const fatal = ['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH'].some((id) => findKafkaError(error, 'apiId', id) !== undefined);
    if (!fatal) return;
    this.#log.warn('producer state rejected by the broker; starting a new producer id');
    const old = this.#client;
    this.#client = this.#newClient();
    void closeClient(old).catch(() => {});
  }
}

/**
 * `symbolPartitioner`, remembered per key Buffer: the producer hands the same Buffer for
 * a symbol every time, so murmur2 runs once per symbol instead of once per trade.
 */
function cachedPartitioner(): Partitioner<Buffer, Buffer, Buffer, Buffer> {
  const known = new WeakMap<Buffer, number>();
  return (message, key, context) => {
    if (key === undefined) return symbolPartitioner(message, key, context);
    let partition = known.get(key);
    if (partition === undefined) {
      partition = symbolPartitioner(message, key, context);
      known.set(key, partition);
    }
    return partition;
  };
}
