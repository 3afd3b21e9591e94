import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { Admin, alterPartitionReassignmentsV0, ConnectionPool, Writer, type Connection, type Reader } from '@platformatic/kafka';
import { KafkaConsole, KafkaTradeConsumer, KafkaTradeProducer, type LogRecord } from '../../src/bus/index.ts';
import { loadConfig, type Config } from '../../src/config/index.ts';
import { createLogger, type Logger } from '../../src/observability/index.ts';
import { epochMs, partitionOf, price, volume, type Trade } from '../../src/domain/index.ts';
import { checkPrerequisites, KAFKA_RELEASE, stackCacheRoot, stackUp } from '../../src/stack/index.ts';
import { componentCacheDir } from '../../src/stack/fetch.ts';
import { runToCompletion, servicePaths, tailLines } from '../../src/stack/process.ts';
import { kafkaSettings, renderKafkaLog4j2 } from '../../src/stack/services/kafka.ts';
import { freePort } from '../support/free-port.ts';
import { appendAcknowledged } from '../support/kafka-append.ts';
import { until } from '../support/until.ts';
import { testGroup } from '../support/test-groups.ts';

// A second broker joins the stack's one-node cluster for this file, so that a topic's partitions
// are led by two brokers, as on any real cluster. The producer must send each partition's
// records to its own leader, and the engine's consumer must fetch from both.
const config: Config = loadConfig({ env: process.env });
const brokers = config.kafka.brokers;
const SECOND_NODE = 2;
const SYMBOLS = ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'TSLA', 'BINANCE:BTCUSDT', 'BINANCE:ETHUSDT', 'OANDA:EUR_USD'];
const run = `${process.pid}-${Date.now()}`;
const dir = mkdtempSync(join(tmpdir(), 'tickstream-second-broker-'));
let second: ChildProcess | undefined;
let secondExit: Promise<void> = Promise.resolve();
const logFile = join(dir, 'kafka.log');

const logTail = (): string => tailLines(logFile, 20).join('\n') || '(no log)';

before(async () => {
  await stackUp('kafka', { config, env: process.env });
  const { java } = await checkPrerequisites(process.env);
  const stackDir = servicePaths(resolve(config.dataDir), 'kafka').dir;
  const clusterId = readFileSync(join(stackDir, 'cluster-id'), 'utf8').trim();
  const { controllerPort } = kafkaSettings(config, stackDir);
  const port = await freePort();
  const properties = join(dir, 'server.properties');
  writeFileSync(
    properties,
    [
      'process.roles=broker',
      `node.id=${SECOND_NODE}`,
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      'controller.listener.names=CONTROLLER',
      `listeners=PLAINTEXT://127.0.0.1:${port}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      'inter.broker.listener.name=PLAINTEXT',
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      `log.dirs=${join(dir, 'data')}`,
      'auto.create.topics.enable=false',
      'num.network.threads=2',
      'num.io.threads=2',
      '',
    ].join('\n'),
  );
  const log4j = join(dir, 'log4j2.properties');
  writeFileSync(log4j, renderKafkaLog4j2());
  const classpath = join(componentCacheDir(stackCacheRoot(process.env, homedir()), KAFKA_RELEASE), 'lib', '*');
  const logging = [`-Dlog4j2.configurationFile=file:${log4j}`, `-Dkafka.logs.dir=${join(dir, 'logs')}`];
  const format = await runToCompletion(java, ['-Xmx256m', ...logging, '-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', properties, '--ignore-formatted'], dir, process.env);
  assert.equal(format.code, 0, `formatting the second broker's storage failed: ${format.output.trim()}`);
  const out = openSync(logFile, 'a');
  const child = spawn(java, ['-Xms256m', '-Xmx512m', ...logging, '-cp', classpath, 'kafka.Kafka', properties], { stdio: ['ignore', out, out] });
  closeSync(out);
  second = child;
  secondExit = new Promise((done) => child.once('exit', () => done()));
  const admin = new Admin({ clientId: 'tickstream-it', bootstrapBrokers: [...brokers] });
  try {
    await until(
      async () => {
        if (child.exitCode !== null) throw new Error(`the second broker exited ${String(child.exitCode)}:\n${logTail()}`);
        const metadata = await admin.metadata({ topics: [], forceUpdate: true }).catch(() => undefined);
        return metadata?.brokers.has(SECOND_NODE) ?? false;
      },
      'the second broker to join the cluster',
      60_000,
      200,
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}; its log ends:\n${logTail()}`);
    });
  } finally {
    await admin.close();
  }
});

after(async () => {
  if (second !== undefined && second.exitCode === null) {
    second.kill('SIGTERM');
    const killer = setTimeout(() => second?.kill('SIGKILL'), 30_000);
    await secondExit;
    clearTimeout(killer);
  }
  rmSync(dir, { recursive: true, force: true });
});

function seededTrades(n: number, symbols: readonly string[]): Trade[] {
  return Array.from({ length: n }, (_, i) => ({
    symbol: symbols[i % symbols.length]!,
    price: price(100 + (i % 97) / 4),
    volume: volume(1 + (i % 13)),
    ts: epochMs(1_700_000_000_000 + i * 5),
    conditions: [],
    source: 'simulator' as const,
    ingestTs: epochMs(1_700_000_000_000 + i),
  }));
}

/** A topic of this run with each partition on the given replicas (the first one preferred), deleted after the test. */
async function assignedTopic(t: TestContext, name: string, replicasOf: ReadonlyMap<number, number[]>): Promise<string> {
  const topic = `it.${name}.${run}`;
  const admin = new Admin({ clientId: 'tickstream-it', bootstrapBrokers: [...brokers] });
  t.after(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.close();
  });
  await admin.createTopics({ topics: [topic], assignments: Array.from(replicasOf, ([partition, replicas]) => ({ partition, brokers: replicas })) });
  return topic;
}

/** A topic of four partitions: 0 and 2 led by the stack's broker, 1 and 3 by the second one. */
async function splitTopic(t: TestContext, name: string): Promise<string> {
  const topic = await assignedTopic(t, name, new Map([0, 1, 2, 3].map((partition) => [partition, [partition % 2 === 0 ? 1 : SECOND_NODE]])));
  const admin = new Admin({ clientId: 'tickstream-it', bootstrapBrokers: [...brokers] });
  try {
    const metadata = await admin.metadata({ topics: [topic] });
    const leaders = new Set(metadata.topics.get(topic)?.partitions.map((p) => p.leader));
    assert.deepEqual([...leaders].sort(), [1, SECOND_NODE], 'the topic is led by both brokers');
  } finally {
    await admin.close();
  }
  return topic;
}

function producer(t: TestContext, topic: string, logger?: Logger): KafkaTradeProducer {
  const dataDir = mkdtempSync(join(tmpdir(), 'tickstream-two-brokers-'));
  const p = new KafkaTradeProducer({ brokers, clientId: 'tickstream-it', format: 'avro', dataDir, spoolLimit: 100_000, topic, retryDelayMs: 200, ...(logger === undefined ? {} : { logger }) });
  t.after(async () => {
    await p.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return p;
}

/** Sends `trades` with the producer and waits until Kafka has them all, none left in the spool. */
async function produceAll(t: TestContext, topic: string, trades: readonly Trade[]): Promise<void> {
  await appendAcknowledged(producer(t, topic), trades);
}

/** The engine's consumer on `topic` in a group of its own; what it hands over lands in the returned list. */
async function consume(t: TestContext, topic: string, maxWaitMs?: number): Promise<LogRecord[]> {
  const seen: LogRecord[] = [];
  const consumer = new KafkaTradeConsumer({
    brokers,
    clientId: 'tickstream-it',
    groupId: testGroup(brokers, `it-${topic}`),
    format: 'avro',
    topic,
    deadLetters: { append: async () => {}, close: async () => {} },
    ...(maxWaitMs === undefined ? {} : { maxWaitMs }),
  });
  t.after(() => consumer.close());
  await consumer.start({
    assigned: async () => new Map(),
    revoked: async () => {},
    records: async (_partition, records) => void seen.push(...records),
  });
  return seen;
}

const partitionsOf = (records: readonly LogRecord[]): number[] => [...new Set(records.map((r) => r.partition))].sort();

test('with partitions led by two brokers, every trade produced is consumed once, from every partition', async (t) => {
  const topic = await splitTopic(t, 'two-brokers');
  const trades = seededTrades(4_000, SYMBOLS);
  await produceAll(t, topic, trades);

  const seen = await consume(t, topic);
  await until(() => seen.length >= trades.length, 'every trade to be consumed', 30_000).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}; ${seen.length} read, from partitions ${partitionsOf(seen).join(',') || 'none'}`);
  });
  assert.equal(seen.length, trades.length, 'each trade once');
  assert.deepEqual(partitionsOf(seen), [0, 1, 2, 3]);
  const key = (trade: Trade): string => `${trade.symbol}|${trade.ts}`;
  assert.deepEqual(seen.map((r) => key(r.trade)).sort(), trades.map(key).sort(), 'the trades consumed are the trades produced');
});

test("a broker with nothing new does not hold up another broker's records", async (t) => {
  const topic = await splitTopic(t, 'idle-broker');
  // Trades of one symbol only, in a partition the stack's broker leads; the second broker's
  // partitions stay empty, so a fetch to it waits its whole maxWaitTime.
  const symbol = SYMBOLS.find((s) => partitionOf(s, 4) % 2 === 0);
  assert.ok(symbol !== undefined, 'a symbol of a partition led by the stack broker');
  const maxWaitMs = 10_000;
  const seen = await consume(t, topic, maxWaitMs);
  // Let the consumer join and send its first fetches, which wait at both brokers.
  await new Promise((r) => setTimeout(r, 1_000));
  const trades = seededTrades(100, [symbol]);
  const sentAt = performance.now();
  await producer(t, topic).append(trades);
  await until(() => seen.length >= trades.length, 'the trades to be consumed', 30_000);
  const tookMs = performance.now() - sentAt;
  assert.ok(tookMs < maxWaitMs / 2, `consumed ${Math.round(tookMs)} ms after sending; a fetch held up by the idle broker takes up to ${maxWaitMs} ms`);
});

test('the Kafka console shows both brokers, each partition with its leader, and reads records from either', async (t) => {
  const topic = await splitTopic(t, 'console');
  const trades = seededTrades(800, SYMBOLS);
  await produceAll(t, topic, trades);

  const kafka = new KafkaConsole({ brokers, clientId: 'tickstream-it-console', tradeTopics: [topic] });
  t.after(() => kafka.close());
  const cluster = await kafka.brokers();
  assert.deepEqual(
    cluster.brokers.map((b) => b.id).sort(),
    [1, SECOND_NODE],
    'both brokers are listed',
  );

  const info = await kafka.topic(topic);
  assert.ok(info !== undefined);
  assert.deepEqual(
    info.partitions.map((x) => [x.partition, x.leader]),
    [0, 1, 2, 3].map((partition) => [partition, partition % 2 === 0 ? 1 : SECOND_NODE]),
    'each partition with its leader',
  );
  assert.equal(info.messages, trades.length, 'the end offsets of both brokers add up to every trade');
  assert.ok(info.size_bytes !== null && info.size_bytes > 0);

  for (const partition of [0, 1, 2, 3]) {
    const expected = trades.filter((trade) => partitionOf(trade.symbol, 4) === partition);
    const messages = await kafka.messages({ topic, partition, offset: 0, limit: 100 });
    assert.ok(messages !== undefined);
    assert.equal(messages.length, Math.min(100, expected.length), `partition ${partition}: the first records`);
    assert.deepEqual(
      messages.map((m) => [m.offset, m.key, m.value_format, (m.value as { price: number }).price]),
      expected.slice(0, 100).map((trade, offset) => [offset, trade.symbol, 'avro', trade.price]),
      `partition ${partition}, led by broker ${partition % 2 === 0 ? 1 : SECOND_NODE}: its trades, decoded, in order`,
    );
  }
});

/** A connection to the stack's broker for admin requests the client has no method for; closed after `use`. */
async function withConnection<T>(use: (connection: Connection) => Promise<T>): Promise<T> {
  const admin = new Admin({ clientId: 'tickstream-it', bootstrapBrokers: [...brokers] });
  const pool = new ConnectionPool('tickstream-it');
  try {
    const broker = (await admin.metadata({ topics: [] })).brokers.get(1);
    assert.ok(broker !== undefined, 'the stack broker is known');
    const connection = await new Promise<Connection>((resolve, reject) => pool.get(broker, (error, c) => (error ? reject(error) : resolve(c!))));
    return await use(connection);
  } finally {
    await new Promise<void>((resolve) => pool.close(() => resolve()));
    await admin.close();
  }
}

/** Gives partitions these replicas, the first one preferred (AlterPartitionReassignments), and waits until the cluster shows them. */
async function reassign(topic: string, partitions: readonly number[], replicas: number[]): Promise<void> {
  await withConnection((connection) =>
    alterPartitionReassignmentsV0.api.async(connection, 30_000, false, [{ name: topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex, replicas })) }]),
  );
  await untilPartitions(topic, partitions, (info) => info.replicas.join(',') === replicas.join(','), `replicas ${replicas.join(',')}`);
}

const ELECT_LEADERS_API_KEY = 43;
const PREFERRED_ELECTION = 0;

/** Makes the partitions' preferred replica their leader (ElectLeaders v1, which the client does not offer), and waits until it leads them. */
async function electPreferred(topic: string, partitions: readonly number[], preferred: number): Promise<void> {
  const request = (): Writer =>
    Writer.create()
      .appendInt8(PREFERRED_ELECTION)
      .appendArray([topic], (w, name) => w.appendString(name, false).appendArray([...partitions], (w, p) => w.appendInt32(p), false, false), false, false)
      .appendInt32(30_000);
  const errors = (_correlationId: number, _apiKey: number, _apiVersion: number, r: Reader): number[] => {
    r.readInt32();
    const codes = [r.readInt16()];
    r.readArray(
      (r) => {
        r.readString(false);
        r.readArray(
          (r) => {
            r.readInt32();
            codes.push(r.readInt16());
            r.readNullableString(false);
          },
          false,
          false,
        );
      },
      false,
      false,
    );
    return codes;
  };
  const codes = await withConnection(
    (connection) => new Promise<number[]>((resolve, reject) => connection.send(ELECT_LEADERS_API_KEY, 1, request, errors, false, false, (error, codes) => (error ? reject(error) : resolve(codes!)))),
  );
  assert.ok(codes.every((code) => code === 0), `the election answered error codes ${codes.join(',')}`);
  await untilPartitions(topic, partitions, (info) => info.leader === preferred, `broker ${preferred} to lead`);
}

async function untilPartitions(topic: string, partitions: readonly number[], holds: (info: { leader: number; replicas: number[] }) => boolean, what: string): Promise<void> {
  const admin = new Admin({ clientId: 'tickstream-it', bootstrapBrokers: [...brokers] });
  try {
    await until(
      async () => {
        const infos = (await admin.metadata({ topics: [topic], forceUpdate: true })).topics.get(topic)?.partitions;
        return partitions.every((p) => infos?.[p] !== undefined && holds(infos[p]));
      },
      `partitions ${partitions.join(',')} of ${topic}: ${what}`,
      30_000,
      100,
    );
  } finally {
    await admin.close();
  }
}

/** A topic of `partitions` partitions, each on the given replicas, and a producer that logs to `lines`; the producer has sent its first 100 trades. */
async function producerOn(
  t: TestContext,
  name: string,
  partitions: readonly number[],
  replicas: number[],
  lines: string[],
): Promise<{ topic: string; p: KafkaTradeProducer; trades: Trade[] }> {
  const topic = await assignedTopic(t, name, new Map(partitions.map((partition) => [partition, replicas])));
  await untilPartitions(topic, partitions, (info) => info.leader === replicas[0], `broker ${replicas[0]} to lead`);
  const p = producer(t, topic, createLogger({ level: 'info', write: (line) => lines.push(line) }));
  const trades = seededTrades(200, SYMBOLS);
  await appendAcknowledged(p, trades.slice(0, 100));
  lines.length = 0;
  return { topic, p, trades };
}

/** The producer sends the rest of its trades: straight to the new leader, nothing spooled, no warning; the partitions hold each trade once. */
async function assertSentToNewLeader(t: TestContext, topic: string, p: KafkaTradeProducer, trades: readonly Trade[], leader: number, lines: readonly string[]): Promise<void> {
  await p.append(trades.slice(100));
  assert.equal(p.spoolDepth(), 0, `nothing spooled:\n${lines.join('\n')}`);
  assert.equal(p.sent, trades.length, 'Kafka acknowledged every trade');
  assert.deepEqual(lines, [], 'no warning');
  const kafka = new KafkaConsole({ brokers, clientId: 'tickstream-it-console', tradeTopics: [topic] });
  t.after(() => kafka.close());
  const info = await kafka.topic(topic);
  assert.ok(info !== undefined && info.partitions.every((x) => x.leader === leader), `broker ${leader} leads every partition`);
  assert.equal(info.messages, trades.length, 'every trade once');
}

test('a send after a partition moved to another broker goes to its new leader, not to the spool', async (t) => {
  const lines: string[] = [];
  const { topic, p, trades } = await producerOn(t, 'leader-moved', [0], [1], lines);
  // The producer still takes broker 1 for the leader: it keeps metadata for a few seconds.
  await reassign(topic, [0], [SECOND_NODE]);
  await untilPartitions(topic, [0], (info) => info.leader === SECOND_NODE, `broker ${SECOND_NODE} to lead`);
  await assertSentToNewLeader(t, topic, p, trades, SECOND_NODE, lines);
});

test('a send to a broker that has just become a follower goes to the new leader, not to the spool', async (t) => {
  const lines: string[] = [];
  // Two partitions: broker 2 stays a replica of both, so its NOT_LEADER_OR_FOLLOWER answer names
  // the new leader of each, in tagged fields from Produce v10 on. The client's parser does not
  // step over those of the first partition, and fails on the second.
  const { topic, p, trades } = await producerOn(t, 'leader-elected', [0, 1], [SECOND_NODE, 1], lines);
  await reassign(topic, [0, 1], [1, SECOND_NODE]);
  await electPreferred(topic, [0, 1], 1);
  await assertSentToNewLeader(t, topic, p, trades, 1, lines);
});
