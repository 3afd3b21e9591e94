import assert from 'node:assert/strict';
import { before, test, type TestContext } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin, ConnectionPool, Consumer, Producer, type Connection } from '@platformatic/kafka';
import { createTradeCodec, KafkaTradeProducer } from '../../src/bus/index.ts';
import { findKafkaError } from '../../src/bus/kafka/kafka-options.ts';
import { produceBatches } from '../../src/bus/kafka/kafka-record-sender.ts';
import { RecordBatchWriter } from '../../src/bus/kafka/record-batch-writer.ts';
import type { SpooledRecord } from '../../src/bus/kafka/trade-spool.ts';
import { KAFKA_COMPRESSIONS, loadConfig, type Config } from '../../src/config/index.ts';
import { epochMs, price, volume, type Trade } from '../../src/domain/index.ts';
import { stackUp } from '../../src/stack/index.ts';
import { logEnd } from '../support/kafka-offsets.ts';
import { until } from '../support/until.ts';

// The broker comes from the stack launcher, configured like the CLI (TICKSTREAM_* variables).
const config: Config = loadConfig({ env: process.env });
const brokers = config.kafka.brokers;
const run = `${process.pid}-${Date.now()}`;

before(async () => {
  await stackUp('kafka', { config, env: process.env });
});

interface Fixture {
  readonly topic: string;
  readonly connection: Connection;
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly topicId: string;
  readonly leader: number;
}

/** A one-partition topic, a connection to its leader and a fresh idempotent producer id. */
async function fixture(t: TestContext, name: string): Promise<Fixture> {
  const topic = `it.${name}.${run}`;
  const admin = new Admin({ clientId: 'tickstream-it', bootstrapBrokers: [...brokers] });
  await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 });
  const producer = new Producer({ clientId: 'tickstream-it', bootstrapBrokers: [...brokers], idempotent: true });
  const pool = new ConnectionPool('tickstream-it');
  t.after(async () => {
    await new Promise<void>((resolve) => pool.close(() => resolve()));
    await producer.close();
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.close();
  });
  const { producerId, producerEpoch } = await producer.initIdempotentProducer({});
  const metadata = await admin.metadata({ topics: [topic] });
  const leader = metadata.brokers.get(metadata.topics.get(topic)!.partitions[0]!.leader)!;
  const connection = await new Promise<Connection>((resolve, reject) => pool.get(leader, (error, c) => (error ? reject(error) : resolve(c!))));
  return { topic, connection, producerId, producerEpoch, topicId: metadata.topics.get(topic)!.id, leader: metadata.topics.get(topic)!.partitions[0]!.leader };
}

function records(from: number, count: number): SpooledRecord[] {
  return Array.from({ length: count }, (_, i) => ({ key: Buffer.from('AAPL'), value: Buffer.from(`trade ${from + i}`) }));
}

test('a batch sent again with the same sequence numbers is written once; the next sequence is written after it', async (t) => {
  const f = await fixture(t, 'producer-dedup');
  const writer = new RecordBatchWriter();
  const batch = (from: number, count: number) =>
    writer.write(records(from, count), { producerId: f.producerId, producerEpoch: f.producerEpoch, firstSequence: from, compression: 'lz4', timestamp: Date.now() });
  const first = batch(0, 100);
  await produceBatches(f.connection, f.topic, [[0, first]]);
  assert.equal((await logEnd(brokers, f.topic)).get(0), 100n);
  // As after a send whose answer was lost: the same records, the same sequence numbers.
  await produceBatches(f.connection, f.topic, [[0, batch(0, 100)]]);
  assert.equal((await logEnd(brokers, f.topic)).get(0), 100n, 'the broker recognised the duplicate');
  await produceBatches(f.connection, f.topic, [[0, batch(100, 50)]]);
  assert.equal((await logEnd(brokers, f.topic)).get(0), 150n);
});

test('a batch that skips sequence numbers is refused with the error the sender treats as fatal', async (t) => {
  const f = await fixture(t, 'producer-gap');
  const writer = new RecordBatchWriter();
  const header = { producerId: f.producerId, producerEpoch: f.producerEpoch, compression: 'none' as const, timestamp: Date.now() };
  await produceBatches(f.connection, f.topic, [[0, writer.write(records(0, 10), { ...header, firstSequence: 0 })]]);
  const error = await produceBatches(f.connection, f.topic, [[0, writer.write(records(20, 10), { ...header, firstSequence: 20 })]]).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error !== undefined, 'the broker refused the batch');
  assert.ok(findKafkaError(error, 'apiId', 'OUT_OF_ORDER_SEQUENCE_NUMBER'), `refused as out of order, got ${String(error)}`);
  assert.equal((await logEnd(brokers, f.topic)).get(0), 10n);
});

/** The codec ids of a record batch's attributes (bits 0-2). */
const CODEC_IDS = { none: 0, gzip: 1, snappy: 2, lz4: 3 } as const;

for (const name of KAFKA_COMPRESSIONS) {
  test(`kafka.compression=${name}: the producer's batches reach the broker in ${name} and read back as the trades sent`, async (t) => {
    const f = await fixture(t, `producer-${name}`);
    const compression = loadConfig({ env: {}, flags: { 'kafka.compression': name } }).kafka.compression;
    const dataDir = mkdtempSync(join(tmpdir(), 'tickstream-compression-'));
    const producer = new KafkaTradeProducer({ brokers, clientId: 'tickstream-it', format: 'avro', dataDir, spoolLimit: 10_000, topic: f.topic, compression });
    t.after(async () => {
      await producer.close();
      rmSync(dataDir, { recursive: true, force: true });
    });
    const trades: Trade[] = Array.from({ length: 300 }, (_, i) => ({
      symbol: 'AAPL',
      price: price(190 + i / 100),
      volume: volume(1 + (i % 7)),
      ts: epochMs(1_700_000_000_000 + i),
      conditions: i % 5 === 0 ? ['1', '12'] : [],
      source: 'simulator' as const,
      ingestTs: epochMs(1_700_000_000_000 + i),
    }));
    await producer.append(trades);
    await until(async () => (await logEnd(brokers, f.topic)).get(0) === BigInt(trades.length), 'the broker to hold every trade', 30_000);

    const reader = new Consumer({ clientId: 'tickstream-it', bootstrapBrokers: [...brokers], groupId: `it-${f.topic}` });
    t.after(() => new Promise<void>((resolve) => reader.close(true, () => resolve())));
    const response = await reader.fetch({
      node: f.leader,
      maxWaitTime: 500,
      topics: [{ topicId: f.topicId, partitions: [{ partition: 0, fetchOffset: 0n, currentLeaderEpoch: -1, lastFetchedEpoch: -1, partitionMaxBytes: 4 * 1024 * 1024 }] }],
    });
    const batches = response.responses.flatMap((r) => r.partitions).flatMap((p) => p.records ?? []);
    assert.ok(batches.length > 0, 'a fetch returns the batches');
    assert.deepEqual(
      [...new Set(batches.map((b) => b.attributes & 0b111))],
      [CODEC_IDS[name]],
      `every batch is compressed with ${name}`,
    );
    const codec = createTradeCodec('avro');
    const read = batches.flatMap((b) => b.records.map((r) => codec.decode(r.value ?? Buffer.alloc(0))));
    assert.deepEqual(read, trades);
  });
}
