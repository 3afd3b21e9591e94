import { join } from 'node:path';
import type { Config } from '../config/index.ts';
import {
  FileSideLog,
  KafkaSideLog,
  KafkaTradeConsumer,
  KafkaTradeProducer,
  MemoryLog,
  pipelineTopics,
  TOPICS,
  type SideLog,
  type TradeLogConsumer,
  type TradeLogProducer,
  type UndecodableRecord,
  UnsentDir,
} from '../bus/index.ts';
import type { Logger } from '../observability/index.ts';
import type { DeadLetter } from '../source/source.ts';
import type { LateEntry } from './processor.ts';

/** Under the data dir: side-topic entries Kafka has not taken yet (KafkaSideLog). */
const UNSENT_DIR = 'unsent';

/** The log between source and engine, with its side topics: in-process (embedded) or Kafka (cluster). */
export interface Transport {
  readonly kind: 'memory' | 'kafka';
  readonly producer: TradeLogProducer;
  /** The engine's consumer; one per transport. */
  consumer(): TradeLogConsumer;
  /** `<topic>.dlq` (`market.trades.dlq`): invalid input with its reason. */
  readonly deadLetters: SideLog<DeadLetter>;
  /** `<topic>.late` (`market.trades.late`): trades behind the watermark. */
  readonly late: SideLog<LateEntry>;
  /** Trades kept on disk while Kafka is away; 0 in-process. */
  spoolDepth(): number;
  /** Since when the engine's consumer has failed to fetch (Kafka not answering); undefined while it reads, and in-process. */
  fetchFailingSince(): number | undefined;
  /** The trades topic, while the consumer's fetches fail because Kafka answers that it has no such topic; undefined otherwise. */
  missingTopic(): string | undefined;
  /** Flushes and closes the producer, if one was made; the consumer stays open for the engine's last commit. */
  closeProducer(): Promise<void>;
  /** Records the engine has not read yet, or -1 when unknown. */
  unread(): number;
  /** Marks the log's end now; the predicate says whether the engine has still to read up to it. */
  behindLogEnd(): Promise<() => boolean>;
  close(): Promise<void>;
}

export interface TransportDeps {
  readonly dataDir: string;
  readonly logger: Logger;
  readonly onError: (error: unknown) => void;
  /** Called with the number of records the engine's consumer found undecodable and dead-lettered. */
  readonly onUndecodable?: (count: number) => void;
}

/** Where a pipeline sets dead letters and late trades aside, for a person to look: `Kafka topic <name>`, or a file path. */
export interface SideLogPlaces {
  readonly deadLetters: string;
  readonly late: string;
}

/** The embedded profile keeps them as NDJSON files under the data dir; the cluster profile in Kafka topics. */
export function sideLogPlaces(config: Config, dataDir: string = config.dataDir): SideLogPlaces {
  if (config.profile === 'cluster') {
    const topics = pipelineTopics(config.kafka.topic);
    return { deadLetters: `Kafka topic ${topics.deadLetters}`, late: `Kafka topic ${topics.late}` };
  }
  return { deadLetters: join(dataDir, `${TOPICS.deadLetters}.ndjson`), late: join(dataDir, `${TOPICS.late}.ndjson`) };
}

export function openTransport(config: Config, deps: TransportDeps): Transport {
  return config.profile === 'cluster' ? kafkaTransport(config, deps) : memoryTransport(config, deps);
}

function memoryTransport(config: Config, deps: { dataDir: string; onError: (error: unknown) => void }): Transport {
  const log = new MemoryLog({ partitions: config.partitions, capacity: config.logCapacity, onError: deps.onError });
  const files = sideLogPlaces(config, deps.dataDir);
  const deadLetters = new FileSideLog<DeadLetter>(files.deadLetters);
  const late = new FileSideLog<LateEntry>(files.late);
  return {
    kind: 'memory',
    producer: log.producer(),
    consumer: () => log.consumer(),
    deadLetters,
    late,
    spoolDepth: () => 0,
    fetchFailingSince: () => undefined,
    missingTopic: () => undefined,
    closeProducer: async () => {},
    unread: () => log.unread(),
    // Appends wait while they are queued, so what is unread is what was appended before.
    behindLogEnd: async () => () => log.unread() > 0,
    close: async () => {
      log.close();
      await Promise.all([deadLetters.close(), late.close()]);
    },
  };
}

function kafkaTransport(config: Config, deps: TransportDeps): Transport {
  const connection = { brokers: config.kafka.brokers, clientId: config.kafka.clientId };
  const topics = pipelineTopics(config.kafka.topic);
  const compression = config.kafka.compression;
  let producer: KafkaTradeProducer | undefined;
  let consumer: KafkaTradeConsumer | undefined;
  const sideLogs: KafkaSideLog<unknown>[] = [];
  // What Kafka does not take in a few seconds is kept on disk and sent once it answers, so a
  // source waiting on its dead letters does not stall while Kafka is away.
  const unsent = new UnsentDir(join(deps.dataDir, UNSENT_DIR));
  const sideLog = <T>(topic: string): SideLog<T> => {
    const log = new KafkaSideLog<T>({ ...connection, topic, compression, unsent, logger: deps.logger.child('kafka') });
    sideLogs.push(log as KafkaSideLog<unknown>);
    return log;
  };
  // One log (and one file of unsent entries) for the topic: the source's dead letters and the consumer's undecodable records.
  const deadLetters = sideLog<DeadLetter | UndecodableRecord>(topics.deadLetters);
  const late = sideLog<LateEntry>(topics.late);
  return {
    kind: 'kafka',
    get producer(): TradeLogProducer {
      producer ??= new KafkaTradeProducer({
        ...connection,
        topic: topics.trades,
        format: config.kafka.format,
        compression,
        dataDir: deps.dataDir,
        spoolLimit: config.kafka.spoolLimit,
        logger: deps.logger.child('producer'),
      });
      return producer;
    },
    consumer: () => {
      consumer ??= new KafkaTradeConsumer({
        ...connection,
        topic: topics.trades,
        groupId: config.kafka.groupId,
        format: config.kafka.format,
        deadLetters: {
          append: async (records) => {
            await deadLetters.append(records);
            deps.onUndecodable?.(records.length);
          },
          close: () => deadLetters.close(),
        },
        onError: deps.onError,
        logger: deps.logger.child('consumer'),
      });
      return consumer;
    },
    deadLetters,
    late,
    spoolDepth: () => producer?.spoolDepth() ?? 0,
    fetchFailingSince: () => consumer?.fetchFailingSince(),
    missingTopic: () => consumer?.missingTopic(),
    closeProducer: async () => {
      await producer?.close();
    },
    unread: () => {
      if (consumer === undefined) return -1;
      let sum = 0;
      for (const lag of consumer.lag().values()) sum += lag;
      return sum;
    },
    // The group's lag above counts from the committed offsets, which move only after a store
    // write; reading up to the log end is what a flush or a close waits for.
    behindLogEnd: async () => (consumer === undefined ? () => false : await consumer.behindLogEnd()),
    close: async () => {
      await producer?.close();
      await consumer?.close();
      await Promise.all(sideLogs.map((l) => l.close()));
      unsent.close();
    },
  };
}
