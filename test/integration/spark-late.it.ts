import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import cassandra from 'cassandra-driver';
import { SparkProcessor } from '../../src/app/spark-processor.ts';
import type { LateEntry } from '../../src/app/processor.ts';
import { KafkaConsole, KafkaSideLog } from '../../src/bus/index.ts';
import type { Config } from '../../src/config/index.ts';
import { epochMs, smallestInterval, type Trade } from '../../src/domain/index.ts';
import { PipelineStats } from '../../src/observability/index.ts';
import { barQueryName } from '../../src/spark/index.ts';
import { parseReplayLine } from '../../src/source/index.ts';
import { openCassandraStore, type Store } from '../../src/store/index.ts';
import { storedBars, storedTrades } from '../support/bars.ts';
import { until } from '../support/until.ts';
import { produceToTopic, sparkTestConfig } from './spark-support.ts';
import { ensureStack, type StackEndpoints } from './stack-fixture.ts';

// Late trades on the real Spark engine: the smallest interval's bar query drops them behind its
// watermark, and SparkProcessor's late tap finds them again in Kafka, counts them in stats.late
// and writes them to the late topic. The run has topics of its own, so the watermark (global
// over everything the query reads) moves only with this test's trades.
const RUN = `${Date.now().toString(36)}${process.pid.toString(36)}`;
const PARTITIONS = 2;
const LATENESS_MS = 2_000;
const SETTLE_MS = 90_000;
const SYMBOLS = ['LATE.A', 'LATE.B'];
/** 2026-01-05T09:30:00Z: fixed, so the windows the trades fall into are the same on every run. */
const START_TS = 1_767_605_400_000;

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-spark-late-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function trade(symbol: string, ts: number, price: number): Trade {
  const parsed = parseReplayLine(JSON.stringify({ symbol, price, volume: 1, ts, conditions: [] }), epochMs(Date.now()));
  const trade = parsed.trades[0];
  if (trade === undefined) throw new Error(`test trade did not parse: ${parsed.invalid[0]?.reason}`);
  return trade;
}

/** `count` trades alternating over the symbols, `stepMs` of event time apart from `fromTs`. */
function onTime(fromTs: number, count: number, stepMs: number): Trade[] {
  return Array.from({ length: count }, (_, i) => trade(SYMBOLS[i % SYMBOLS.length] ?? 'LATE.A', fromTs + i * stepMs, 100 + i));
}

interface Fixture {
  readonly stack: StackEndpoints;
  readonly topic: string;
  readonly barsTopic: string;
  readonly lateTopic: string;
  readonly keyspace: string;
  readonly partitions: number;
}

/** Topics and a keyspace of the test's own, named by `tag`. */
async function fixture(t: TestContext, stack: StackEndpoints, tag: string, partitions: number): Promise<Fixture> {
  const id = `${tag}${RUN}`;
  const f = { stack, topic: `it.spark.late.${id}`, barsTopic: `it.spark.late.bars.${id}`, lateTopic: `it.spark.late.late.${id}`, keyspace: `it_spark_late_${id}`, partitions };
  const kafka = new KafkaConsole({ brokers: [stack.kafkaBrokers], clientId: 'tickstream-it' });
  t.after(async () => {
    const admin = new KafkaConsole({ brokers: [stack.kafkaBrokers], clientId: 'tickstream-it' });
    for (const topic of [f.topic, f.barsTopic, f.lateTopic]) await admin.deleteTopic(topic).catch(() => false);
    await admin.close();
  });
  try {
    await kafka.createTopic({ name: f.topic, partitions });
    await kafka.createTopic({ name: f.lateTopic, partitions: 1 });
  } finally {
    await kafka.close();
  }
  t.after(async () => {
    const client = new cassandra.Client({ contactPoints: [stack.cassandraContactPoint], localDataCenter: 'datacenter1' });
    await client.execute(`DROP KEYSPACE IF EXISTS ${f.keyspace}`).catch(() => {});
    await client.shutdown();
  });
  return f;
}

function config(f: Fixture, dataDir: string): Config {
  return sparkTestConfig(f.stack, dataDir, {
    lateness: `${LATENESS_MS}ms`,
    'kafka.topicPartitions': String(f.partitions),
    'cassandra.keyspace': f.keyspace,
  });
}

function produce(f: Fixture, dataDir: string, trades: readonly Trade[]): Promise<void> {
  return produceToTopic(f.stack, f.topic, dataDir, trades);
}

/** The watermark (epoch ms) the smallest interval's bar query reported at the last status check; -1 before it has one. */
function reportedWatermark(processor: SparkProcessor, query: string): number {
  const watermark = processor.latestProgress().find((r) => r.name === query)?.watermark;
  return watermark === undefined ? -1 : Date.parse(watermark);
}

function lateLogOf(t: TestContext, f: Fixture): KafkaSideLog<LateEntry> {
  const log = new KafkaSideLog<LateEntry>({ brokers: [f.stack.kafkaBrokers], clientId: 'tickstream-it', topic: f.lateTopic });
  t.after(() => log.close());
  return log;
}

/** What the late topic of the test holds. */
async function lateWritten(f: Fixture): Promise<LateEntry[]> {
  const kafka = new KafkaConsole({ brokers: [f.stack.kafkaBrokers], clientId: 'tickstream-it' });
  try {
    return ((await kafka.messages({ topic: f.lateTopic, partition: 0, offset: 0, limit: 100 })) ?? []).map((m) => m.value as LateEntry);
  } finally {
    await kafka.close();
  }
}

async function tradeCountsPerInterval(store: Store, c: Config): Promise<number[]> {
  const bars = await storedBars(store, SYMBOLS, c.intervals);
  return c.intervals.map((i) => bars.filter((b) => b.interval === i.label).reduce((n, b) => n + b.tradeCount, 0));
}

test('Spark\'s late trades: counted one by one, written to the late topic, stored raw and in no bar', { timeout: 180_000 }, async (t) => {
  const stack = await ensureStack(['kafka', 'cassandra', 'spark']);
  if (!stack) return t.skip('Java or Maven missing');
  const f = await fixture(t, stack, 'a', PARTITIONS);
  const dataDir = tempDir(t);
  const c = config(f, dataDir);
  const smallest = smallestInterval(c.intervals);
  assert.ok(smallest !== undefined, 'the config has intervals');
  const lateQuery = barQueryName(smallest.label);

  // 5 s of event time on time: the watermark becomes the newest of them minus the lateness.
  const first = onTime(START_TS, 21, 250);
  const newestFirst = Math.max(...first.map((tr) => tr.ts));
  // Spark drops late rows after its partial aggregation, so its numRowsDroppedByWatermark counts
  // (symbol, window) groups, not trades: the first two late trades share one 5 s window and
  // count as one drop. The tap replays the batch and finds every one of them.
  const late = [
    trade('LATE.A', START_TS - 180_000, 90),
    trade('LATE.A', START_TS - 179_000, 93),
    trade('LATE.B', START_TS - 180_000, 91),
    trade('LATE.A', START_TS - 170_000, 92),
  ];
  // On time again, after the late ones in the same partitions, so the batch that reads the late trades has more than them.
  const second = onTime(newestFirst + 250, 8, 250);
  const onTimeCount = first.length + second.length;

  const stats = new PipelineStats();
  const lateLog = lateLogOf(t, f);
  const processor = new SparkProcessor(c, { stats, statusIntervalMs: 250, late: lateLog, job: { topic: f.topic, barsTopic: f.barsTopic } });
  t.after(() => processor.close());
  const store = openCassandraStore({ ...c.cassandra, contactPoints: [...c.cassandra.contactPoints] });
  t.after(() => store.close());
  try {
    await processor.start();
    await produce(f, dataDir, first);

    // Spark moves the watermark once per micro-batch, after the batch: wait until the bar
    // query reports the one of the first trades, so every later batch drops behind it.
    const want = newestFirst - LATENESS_MS;
    await until(() => reportedWatermark(processor, lateQuery) >= want, `${lateQuery} to report the watermark ${new Date(want).toISOString()}`, SETTLE_MS, 100);
    assert.equal(stats.late, 0, 'no trade of the first part is late');
    for (const tr of late) {
      assert.ok(Math.floor(tr.ts / 60_000) * 60_000 + 60_000 <= want, 'each late trade\'s windows, 1 m included, end before the watermark');
    }

    await produce(f, dataDir, [...late, ...second]);
    let counts: number[] = [];
    let stored = 0;
    try {
      await until(
        async () => {
          counts = await tradeCountsPerInterval(store, c);
          stored = [...(await storedTrades(store, SYMBOLS)).values()].reduce((n, s) => n + s.length, 0);
          return stats.late >= late.length && stored === onTimeCount + late.length && counts.every((n) => n === onTimeCount);
        },
        'the late trades counted and every on-time trade in the bars',
        SETTLE_MS,
        250,
      );
    } catch (error) {
      const detail = `late ${stats.late} of ${late.length}; trades stored ${stored} of ${onTimeCount + late.length}; Σ trade_count per interval ${counts.join(', ')} of ${onTimeCount}`;
      throw new Error(`${error instanceof Error ? error.message : String(error)} (${detail})`, { cause: error });
    }
    // Every batch the bar query has made so far counted, then no more drops than late trades.
    const barQuery = processor.queries.find((q) => q.name === lateQuery);
    assert.ok(barQuery, `${lateQuery} runs`);
    const lastBatch = (await barQuery.lastProgress())?.batchId ?? -1;
    await until(
      () => (processor.latestProgress().find((r) => r.name === lateQuery)?.batchId ?? -1) >= lastBatch,
      `a status check to count batch ${lastBatch} of ${lateQuery}`,
      SETTLE_MS,
      100,
    );
    assert.equal(stats.late, late.length, 'stats.late is the number of late trades sent');
    assert.deepEqual(processor.lateReplay, { unreplayed: 0, mismatches: 0, unseen: 0 }, 'every batch with drops replayed, in agreement with Spark\'s drop count');

    const written = await lateWritten(f);
    const key = (e: { symbol: string; ts: number; price: number }): string => `${e.symbol}@${e.ts}:${e.price}`;
    assert.deepEqual(written.map(key).sort(), late.map(key).sort(), 'the late topic holds each late trade once');
    for (const e of written) {
      assert.ok(e.watermark !== null && e.watermark >= want, `${key(e)} carries the watermark it was late by (${e.watermark})`);
      assert.ok(Number.isInteger(e.offset) && e.partition >= 0 && e.partition < PARTITIONS, `${key(e)} carries its place in ${f.topic}`);
    }

    const bars = await storedBars(store, SYMBOLS, c.intervals);
    for (const tr of late) {
      assert.ok(
        !bars.some((b) => b.symbol === tr.symbol && b.windowStart <= tr.ts && tr.ts < b.windowEnd),
        `no bar holds the late trade of ${tr.symbol} at ${new Date(tr.ts).toISOString()}`,
      );
    }
    const trades = await storedTrades(store, SYMBOLS);
    for (const tr of late) {
      assert.ok(
        (trades.get(tr.symbol) ?? []).some((s) => s.trade.ts === tr.ts && s.trade.price === tr.price),
        `the trades table holds the late trade of ${tr.symbol} at ${new Date(tr.ts).toISOString()}`,
      );
    }
  } finally {
    await processor.close();
  }
});

test('Spark judges a micro-batch by the watermark of the batch before it, and so does the late tap', { timeout: 180_000 }, async (t) => {
  const stack = await ensureStack(['kafka', 'cassandra', 'spark']);
  if (!stack) return t.skip('Java or Maven missing');
  // One partition and 4 records per micro-batch, all in the topic before the job starts: the
  // batches are exactly the groups of 4 below, back to back, with no empty batch between them.
  const f = await fixture(t, stack, 'b', 1);
  const dataDir = tempDir(t);
  const c = config(f, dataDir);
  const at = (offsetMs: number, price: number): Trade => trade('LATE.A', START_TS + offsetMs, price);
  // Batch 0 leaves the watermark at +1 s (newest +3 s − 2 s); batch 1 moves it to +18.3 s.
  const batch0 = [at(0, 100), at(1_000, 101), at(2_000, 102), at(3_000, 103)];
  const batch1 = [at(20_000, 104), at(20_100, 105), at(20_200, 106), at(20_300, 107)];
  // In batch 2, +5 s: its window [+5 s, +10 s) ends after batch 1's watermark (+1 s) but before
  // batch 2's own (+18.3 s). Spark judges it by batch 1's: it is on time and in a bar.
  const judgedByPrevious = at(5_000, 108);
  const batch2 = [judgedByPrevious, at(20_400, 109), at(20_500, 110), at(20_600, 111)];
  // In batch 3, +4 s: its window [+0 s, +5 s) ends before batch 2's watermark (+18.3 s): late.
  const lateOne = at(4_000, 112);
  const batch3 = [lateOne, at(20_700, 113), at(20_800, 114), at(20_900, 115)];
  await produce(f, dataDir, [...batch0, ...batch1, ...batch2, ...batch3]);

  const stats = new PipelineStats();
  const processor = new SparkProcessor(c, { stats, statusIntervalMs: 250, late: lateLogOf(t, f), job: { topic: f.topic, barsTopic: f.barsTopic, maxOffsetsPerTrigger: 4 } });
  t.after(() => processor.close());
  const store = openCassandraStore({ ...c.cassandra, contactPoints: [...c.cassandra.contactPoints] });
  t.after(() => store.close());
  const smallest = smallestInterval(c.intervals);
  assert.ok(smallest !== undefined, 'the config has intervals');
  await processor.start();
  await until(() => stats.late >= 1, 'the late trade of batch 3 counted', SETTLE_MS, 100);
  const barOf = async (tr: Trade) => (await storedBars(store, ['LATE.A'], [smallest])).find((b) => b.windowStart <= tr.ts && tr.ts < b.windowEnd);
  await until(async () => (await barOf(judgedByPrevious)) !== undefined, 'the bar of the trade judged by the previous watermark', SETTLE_MS, 250);
  assert.equal((await barOf(judgedByPrevious))?.tradeCount, 1, 'Spark aggregated the trade its own batch\'s watermark would have dropped');
  assert.equal((await barOf(lateOne))?.tradeCount, batch0.length, 'the bar of +0 s holds the on-time trades of batch 0, not the late one');
  const written = await lateWritten(f);
  assert.deepEqual(written.map((e) => e.ts), [lateOne.ts], 'the late topic holds the one trade Spark dropped');
  assert.equal(written[0]?.watermark, START_TS + 18_300, 'judged by batch 2\'s watermark');
  assert.equal(stats.late, 1);
  assert.deepEqual(processor.lateReplay, { unreplayed: 0, mismatches: 0, unseen: 0 });

  // Stopped and started again on the same data dir: the replay goes on from the batch it saw
  // last (its watermark judges the first batch of the new run), and repeats nothing. Batch 4
  // is the one without data that Spark runs to move the watermark on; once it has run, the
  // new run's first batch is one with data, judged by a watermark of the old run.
  const lateQuery = processor.queries.find((q) => q.name === barQueryName(smallest.label));
  assert.ok(lateQuery, 'the smallest interval\'s query runs');
  await until(async () => ((await lateQuery.lastProgress())?.batchId ?? -1) >= 4, 'the batch without data after batch 3', SETTLE_MS, 100);
  await processor.close();
  const lateAgain = at(3_500, 116);
  await produce(f, dataDir, [lateAgain, at(21_000, 117), at(21_100, 118), at(21_200, 119)]);
  const statsAgain = new PipelineStats();
  const again = new SparkProcessor(c, { stats: statsAgain, statusIntervalMs: 250, late: lateLogOf(t, f), job: { topic: f.topic, barsTopic: f.barsTopic, maxOffsetsPerTrigger: 4 } });
  t.after(() => again.close());
  await again.start();
  await until(() => statsAgain.late >= 1, 'the late trade after the restart counted', SETTLE_MS, 100);
  await again.close();
  assert.deepEqual((await lateWritten(f)).map((e) => e.ts), [lateOne.ts, lateAgain.ts], 'the late topic holds each late trade once, across the restart');
  assert.equal(statsAgain.late, 1);
  assert.deepEqual(again.lateReplay, { unreplayed: 0, mismatches: 0, unseen: 0 }, 'no batch went unseen across the restart');
});
