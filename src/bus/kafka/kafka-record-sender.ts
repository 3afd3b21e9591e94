import { ConnectionPool, Producer, produceV11, Writer, type ClusterMetadata, type Connection, type ProducerInfo } from '@platformatic/kafka';
import { murmur2, pause } from '../../domain/index.ts';
import type { Logger } from '../../observability/index.ts';
import { ACKS_ALL, clientBase, closeClient, findKafkaError, messageOf, type KafkaCompression, type KafkaConnection } from './kafka-options.ts';
import { RecordBatchWriter } from './record-batch-writer.ts';
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
type ProduceResponse = ReturnType<typeof produceV11.parseResponse>;

const PRODUCE_API_KEY = 0;
/**
 * The Produce request version written here (flexible: compact strings, tagged fields). Versions
 * 9 to 11 share the fields read and written here; from 10 on, a broker adds the partition's new
 * leader to a NOT_LEADER_OR_FOLLOWER answer as tagged fields, which the client's response parser
 * does not step over (it takes their count for a byte length, zigzag-decoded), so the answer
 * that should lead to a retry failed as "Out of bounds". Version 9 answers carry no tagged fields.
 */
const PRODUCE_VERSION = 9;
/** How long the broker may wait for the in-sync replicas before it answers (acks=all). */
const ACKS_TIMEOUT_MS = 5_000;
/** Errors after which the broker refuses this producer id for good; a new one is needed. */
const FATAL_PRODUCER_ERRORS = ['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH'];
/**
 * Errors of a partition whose leader is moving, or is still being set up on a topic made a
 * moment before: the send is tried again with fresh metadata before it counts as failed.
 */
const LEADER_ERRORS = ['NOT_LEADER_OR_FOLLOWER', 'LEADER_NOT_AVAILABLE'];
/** Further attempts after a leader error, `LEADER_RETRY_MS` times the attempt apart (50, 100, 150 ms). */
const LEADER_RETRIES = 3;
const LEADER_RETRY_MS = 50;

/** Metadata that names no leader for a partition yet. */
class NoLeaderError extends Error {}

/**
 * Sends as an idempotent producer with acks=all, compressed, partitioned by key (murmur2, as
 * Java clients do). The Kafka client finds the brokers, the partitions' leaders and the
 * producer id; the record batches and Produce requests are written here, one buffer per
 * batch, on connections of the sender's own.
 *
 * Sequence numbers move on only when a whole send is acknowledged. A send that failed is
 * sent again (by the producer's spool) as the same records, so each partition's batch comes
 * back with the same sequence numbers, and a broker that had written it the first time
 * recognises the duplicate instead of writing it twice.
 *
 * Sends run one at a time, in the order they were called.
 */
export class ClientSender implements RecordSender {
  readonly #options: ClientSenderOptions;
  readonly #log: Logger;
  readonly #pool: ConnectionPool;
  readonly #writer = new RecordBatchWriter();
  /** Next sequence number per topic, per partition, for the current producer id. */
  readonly #sequences = new Map<string, Map<number, number>>();
  /** The partition of a key (masked murmur2, as `partitionOf`), per key Buffer (the producer hands the same Buffer for a symbol every time) and partition count. */
  readonly #partitions = new WeakMap<Buffer, { count: number; partition: number }>();
  #client: Client;
  /** The producer id and epoch of #client, asked for at its first send. */
  #producer: ProducerInfo | undefined;
  #tail: Promise<void> = Promise.resolve();

  constructor(options: ClientSenderOptions, logger: Logger) {
    this.#options = options;
    this.#log = logger;
    this.#client = this.#newClient();
    const base = clientBase(options, 'producer');
    this.#pool = new ConnectionPool(base.clientId, { connectTimeout: base.timeout, requestTimeout: base.requestTimeout });
  }

  send(topic: string, records: readonly SpooledRecord[]): Promise<void> {
    const sent = this.#tail.then(() => this.#send(topic, records));
    this.#tail = sent.catch(() => {});
    return sent;
  }

  async close(): Promise<void> {
    await this.#tail;
    await new Promise<void>((resolve) => this.#pool.close(() => resolve()));
    await closeClient(this.#client);
  }

  async #send(topic: string, records: readonly SpooledRecord[]): Promise<void> {
    if (records.length === 0) return;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#sendOnce(topic, records);
        return;
      } catch (error) {
        if (attempt > LEADER_RETRIES || !isLeaderError(error)) throw error;
        this.#log.debug('partition leader not ready; sending again', { topic, attempt, error: messageOf(error) });
        await pause(LEADER_RETRY_MS * attempt);
      }
    }
  }

  /**
   * One attempt. The sequences move on only when every partition acknowledged its batch, so a
   * second attempt after a partial failure sends the same sequences, and the partitions that
   * took the first one recognise it.
   */
  async #sendOnce(topic: string, records: readonly SpooledRecord[]): Promise<void> {
    const client = this.#client;
    try {
      const { producerId, producerEpoch } = (this.#producer ??= await client.initIdempotentProducer({}));
      const metadata = await client.metadata({ topics: [topic] });
      const byLeader = this.#byLeader(topic, metadata, records);
      const sequences = this.#sequencesOf(topic);
      const timestamp = Date.now();
      const requests: Promise<ProduceResponse>[] = [];
      for (const [leader, partitions] of byLeader) {
        const batches: [number, Buffer][] = [];
        for (const [partition, taken] of partitions) {
          const firstSequence = sequences.get(partition) ?? 0;
          batches.push([partition, this.#writer.write(taken, { producerId, producerEpoch, firstSequence, compression: this.#options.compression, timestamp })]);
        }
        requests.push(this.#produce(metadata, leader, topic, batches));
      }
      await Promise.all(requests);
      for (const partitions of byLeader.values()) {
        for (const [partition, taken] of partitions) sequences.set(partition, nextSequence(sequences.get(partition) ?? 0, taken.length));
      }
    } catch (error) {
      this.#afterFailure(client, error);
      throw error;
    }
  }

  /** The records by the leader of their partition, then by partition, in the order given. */
  #byLeader(topic: string, metadata: ClusterMetadata, records: readonly SpooledRecord[]): Map<number, Map<number, SpooledRecord[]>> {
    const info = metadata.topics.get(topic);
    if (info === undefined) throw new Error(`topic ${topic} not found`);
    const count = info.partitionsCount;
    const byLeader = new Map<number, Map<number, SpooledRecord[]>>();
    for (const record of records) {
      const partition = this.#partitionOf(record.key, count);
      const leader = info.partitions[partition]?.leader ?? -1;
      let partitions = byLeader.get(leader);
      if (partitions === undefined) byLeader.set(leader, (partitions = new Map()));
      let taken = partitions.get(partition);
      if (taken === undefined) partitions.set(partition, (taken = []));
      taken.push(record);
    }
    return byLeader;
  }

  #partitionOf(key: Buffer, count: number): number {
    const known = this.#partitions.get(key);
    if (known !== undefined && known.count === count) return known.partition;
    const partition = (murmur2(key) & 0x7fffffff) % count;
    this.#partitions.set(key, { count, partition });
    return partition;
  }

  #sequencesOf(topic: string): Map<number, number> {
    let sequences = this.#sequences.get(topic);
    if (sequences === undefined) this.#sequences.set(topic, (sequences = new Map()));
    return sequences;
  }

  async #produce(metadata: ClusterMetadata, leader: number, topic: string, batches: [number, Buffer][]): Promise<ProduceResponse> {
    const broker = metadata.brokers.get(leader);
    if (broker === undefined) throw new NoLeaderError(`no leader known for ${topic} (broker ${leader})`);
    const connection = await new Promise<Connection>((resolve, reject) => this.#pool.get(broker, (error, c) => (error ? reject(error) : resolve(c!))));
    return produceBatches(connection, topic, batches);
  }

  #newClient(): Client {
    return new Producer({ ...clientBase(this.#options, 'producer'), idempotent: true, acks: ACKS_ALL });
  }

  /**
   * Any failure may mean stale leaders, so the next send asks for metadata again. A broker
   * that lost the producer's state, or saw a batch it cannot order, rejects every later send
   * from this producer id; a new client gets a new id, and the sequences start over. (The
   * batch in doubt may then be written twice: the price of not losing it.)
   */
  #afterFailure(client: Client, error: unknown): void {
    client.clearMetadata();
    const fatal = FATAL_PRODUCER_ERRORS.some((id) => findKafkaError(error, 'apiId', id) !== undefined);
    if (!fatal || client !== this.#client) return;
    this.#log.warn('producer state rejected by the broker; starting a new producer id');
    this.#sequences.clear();
    this.#producer = undefined;
    this.#client = this.#newClient();
    void closeClient(client).catch(() => {});
  }
}

function isLeaderError(error: unknown): boolean {
  return error instanceof NoLeaderError || LEADER_ERRORS.some((id) => findKafkaError(error, 'apiId', id) !== undefined);
}

/** The next sequence number after `count` records; Kafka's sequences wrap to 0 after the largest int32. */
export function nextSequence(sequence: number, count: number): number {
  const next = sequence + count;
  return next > 0x7fffffff ? next - 0x80000000 : next;
}

/**
 * Sends one Produce request (v9, acks=all) for one topic, per partition one record batch
 * from RecordBatchWriter; rejects with the client's ResponseError when a partition refused its batch.
 */
export function produceBatches(connection: Connection, topic: string, batches: [partition: number, batch: Buffer][]): Promise<ProduceResponse> {
  return new Promise<ProduceResponse>((resolve, reject) =>
    connection.send(PRODUCE_API_KEY, PRODUCE_VERSION, () => produceRequest(topic, batches), produceV11.parseResponse, true, true, (error, response) =>
      error ? reject(error) : resolve(response!),
    ),
  );
}

function produceRequest(topic: string, batches: [number, Buffer][]): Writer {
  return Writer.create()
    .appendString(null)
    .appendInt16(ACKS_ALL)
    .appendInt32(ACKS_TIMEOUT_MS)
    .appendArray([topic], (w, name) =>
      w.appendString(name).appendArray(batches, (w, [partition, batch]) => {
        w.appendInt32(partition).appendUnsignedVarInt(batch.length + 1).append(batch);
      }),
    )
    .appendTaggedFields();
}
