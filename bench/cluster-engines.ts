// The cluster profile's two engines, each on a Kafka topic of its own and into a Cassandra
// keyspace of its own, and the scratch topics, keyspaces and directories they use, removed at
// the end. Own topics keep Spark's watermark (global over what a query reads) and the engines'
// consumer positions away from whatever other runs append to market.trades.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import cassandra from 'cassandra-driver';
import { Processor, type LateEntry } from '../src/app/index.ts';
import { SparkProcessor } from '../src/app/spark-processor.ts';
import { KafkaConsole, KafkaTradeConsumer, KafkaTradeProducer, type SideLog, type UndecodableRecord } from '../src/bus/index.ts';
import { loadConfig, type Config } from '../src/config/index.ts';
import type { Trade } from '../src/domain/index.ts';
import { PipelineStats, silentLogger } from '../src/observability/index.ts';
import { deleteGroups } from '../test/support/kafka-offsets.ts';
import { openCassandraStore, type Store } from '../src/store/index.ts';

/** Keeps what it is given in memory: the late trades and undecodable records of a TS engine run. */
export class ArraySideLog<T> implements SideLog<T> {
  readonly entries: T[] = [];
  async append(entries: readonly T[]): Promise<void> {
    this.entries.push(...entries);
  }
  async close(): Promise<void> {}
}

/** Topics, keyspaces and directories made for one run; clean() removes every one of them. */
export class Scratch {
  readonly #config: Config;
  readonly #topics: string[] = [];
  readonly #keyspaces: string[] = [];
  readonly #groups: string[] = [];
  readonly #dirs: string[] = [];

  constructor(config: Config) {
    this.#config = config;
  }

  async topic(name: string, partitions = this.#config.kafka.topicPartitions): Promise<string> {
    const kafka = new KafkaConsole({ brokers: this.#config.kafka.brokers, clientId: 'tickstream-bench' });
    try {
      this.#topics.push(name);
      await kafka.createTopic({ name, partitions });
    } finally {
      await kafka.close();
    }
    return name;
  }

  /** A topic made by someone else (Spark's bar-updates topic is made by the job's processor). */
  adoptTopic(name: string): string {
    this.#topics.push(name);
    return name;
  }

  /** A keyspace name to be dropped at the end; the engines create it by migrating. */
  keyspace(name: string): string {
    this.#keyspaces.push(name);
    return name;
  }

  /** A consumer group name to be deleted at the end. */
  group(name: string): string {
    this.#groups.push(name);
    return name;
  }

  dir(name: string): string {
    const dir = mkdtempSync(join(tmpdir(), `tickstream-bench-${name}-`));
    this.#dirs.push(dir);
    return dir;
  }

  async clean(): Promise<void> {
    const kafka = new KafkaConsole({ brokers: this.#config.kafka.brokers, clientId: 'tickstream-bench' });
    for (const topic of this.#topics) await kafka.deleteTopic(topic).catch(() => false);
    await kafka.close().catch(() => {});
    await deleteGroups(this.#config.kafka.brokers, this.#groups);
    const client = new cassandra.Client({ contactPoints: [...this.#config.cassandra.contactPoints], localDataCenter: this.#config.cassandra.localDataCenter });
    for (const ks of this.#keyspaces) await client.execute(`DROP KEYSPACE IF EXISTS ${ks}`).catch(() => {});
    await client.shutdown().catch(() => {});
    for (const dir of this.#dirs) rmSync(dir, { recursive: true, force: true });
  }
}

/** The config of one engine: the cluster profile into the given keyspace, silent, its data in dataDir. */
export function engineConfig(base: Config, engine: 'ts' | 'spark', keyspace: string, dataDir: string, symbols: readonly string[]): Config {
  return loadConfig({
    env: process.env,
    cwd: dataDir,
    flags: {
      profile: 'cluster',
      engine,
      store: 'cassandra',
      dataDir,
      logLevel: 'silent',
      symbols: symbols.join(','),
      intervals: base.intervals.map((i) => i.label).join(','),
      flushInterval: `${base.flushInterval}ms`,
      lateness: `${base.lateness}ms`,
      'cassandra.keyspace': keyspace,
    },
  });
}

/** Appends trades to a topic in chunks, each acknowledged by Kafka before the next. */
export async function produceTrades(config: Config, topic: string, dataDir: string, trades: readonly Trade[], chunk = 5_000): Promise<void> {
  const producer = new KafkaTradeProducer({ ...tradeProducerOptions(config, topic, dataDir) });
  try {
    for (let i = 0; i < trades.length; i += chunk) await producer.append(trades.slice(i, i + chunk));
  } finally {
    await producer.close();
  }
}

export function tradeProducerOptions(config: Config, topic: string, dataDir: string): ConstructorParameters<typeof KafkaTradeProducer>[0] {
  return { brokers: config.kafka.brokers, clientId: 'tickstream-bench', format: config.kafka.format, dataDir, spoolLimit: 1_000_000, topic };
}

export interface RunningEngine {
  readonly stats: PipelineStats;
  close(): Promise<void>;
}

/**
 * The TS engine as the process role runs it in the cluster profile: a Kafka consumer group on
 * the topic, the Processor, the Cassandra store of the config's keyspace (migrated first).
 */
export async function startTsEngine(config: Config, topic: string, groupId: string): Promise<RunningEngine & { readonly late: ArraySideLog<LateEntry>; readonly store: Store }> {
  const { contactPoints, localDataCenter, keyspace, concurrency } = config.cassandra;
  const store = openCassandraStore({ contactPoints, localDataCenter, keyspace, concurrency, logger: silentLogger });
  await store.migrate();
  const stats = new PipelineStats();
  const consumer = new KafkaTradeConsumer({
    brokers: config.kafka.brokers,
    clientId: 'tickstream-bench',
    groupId,
    format: config.kafka.format,
    topic,
    deadLetters: new ArraySideLog<UndecodableRecord>(),
  });
  const late = new ArraySideLog<LateEntry>();
  const processor = new Processor({
    engineId: groupId,
    engine: { intervals: config.intervals, lateness: config.lateness },
    store,
    consumer,
    late,
    stats,
    flushIntervalMs: config.flushInterval,
  });
  try {
    await processor.start();
  } catch (error) {
    await consumer.close().catch(() => {});
    await store.close().catch(() => {});
    throw error;
  }
  return {
    stats,
    late,
    store,
    close: async () => {
      await processor.close();
      await consumer.close();
      await store.close();
    },
  };
}

/**
 * The Spark bar job as the process role runs it (SparkProcessor): migrates the keyspace, makes
 * the bar-updates topic, starts the queries with a trigger of the config's flush interval,
 * checkpointing under the config's data dir; close() stops the queries.
 */
export async function startSparkEngine(config: Config, topic: string, barsTopic: string): Promise<RunningEngine & { readonly processor: SparkProcessor }> {
  const stats = new PipelineStats();
  const processor = new SparkProcessor(config, { stats, statusIntervalMs: 2_000, job: { topic, barsTopic, startingOffsets: 'earliest' } });
  try {
    await processor.start();
  } catch (error) {
    await processor.close().catch(() => {});
    throw error;
  }
  return { stats, processor, close: () => processor.close() };
}
