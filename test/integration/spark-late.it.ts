import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import cassandra from 'cassandra-driver';
import { SparkProcessor } from '../../src/app/spark-processor.ts';
import { KafkaConsole } from '../../src/bus/index.ts';
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
// watermark and SparkProcessor adds the drops to stats.late. The run has a topic of its own, so
// the watermark (global over everything the query reads) moves only with this test's trades.
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
  if (parsed.trade === undefined) throw new Error(`test trade did not parse: ${parsed.reason}`);
  return parsed.trade;
}

/** `count` trades alternating over the symbols, `stepMs` of event time apart from `fromTs`. */
function onTime(fromTs: number, count: number, stepMs: number): Trade[] {
  return Array.from({ length: count }, (_, i) => trade(SYMBOLS[i % SYMBOLS.length] ?? 'LATE.A', fromTs + i * stepMs, 100 + i));
}

interface Fixture {
  readonly stack: StackEndpoints;
  readonly topic: string;
  readonly barsTopic: string;
  readonly keyspace: string;
}

async function fixture(t: TestContext, stack: StackEndpoints): Promise<Fixture> {
  const f = { stack, topic: `it.spark.late.${RUN}`, barsTopic: `it.spark.late.bars.${RUN}`, keyspace: `it_spark_late_${RUN}` };
  const kafka = new KafkaConsole({ brokers: [stack.kafkaBrokers], clientId: 'tickstream-it' });
  t.after(async () => {
    const admin = new KafkaConsole({ brokers: [stack.kafkaBrokers], clientId: 'tickstream-it' });
    for (const topic of [f.topic, f.barsTopic]) await admin.deleteTopic(topic).catch(() => false);
    await admin.close();
  });
  try {
    await kafka.createTopic({ name: f.topic, partitions: PARTITIONS });
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
    'kafka.topicPartitions': String(PARTITIONS),
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

async function tradeCountsPerInterval(store: Store, c: Config): Promise<number[]> {
  const bars = await storedBars(store, SYMBOLS, c.intervals);
  return c.intervals.map((i) => bars.filter((b) => b.interval === i.label).reduce((n, b) => n + b.tradeCount, 0));
}

test('Spark counts the trades its smallest bar query drops behind the watermark as late, stores them raw and in no bar', { timeout: 180_000 }, async (t) => {
  const stack = await ensureStack(['kafka', 'cassandra', 'spark']);
  if (!stack) return t.skip('Java or Maven missing');
  const f = await fixture(t, stack);
  const dataDir = tempDir(t);
  const c = config(f, dataDir);
  const smallest = smallestInterval(c.intervals);
  assert.ok(smallest !== undefined, 'the config has intervals');
  const lateQuery = barQueryName(smallest.label);

  // 5 s of event time on time: the watermark becomes the newest of them minus the lateness.
  const first = onTime(START_TS, 21, 250);
  const newestFirst = Math.max(...first.map((tr) => tr.ts));
  // Each late trade in a (symbol, 5 s window) of its own. Spark drops late rows after the
  // partial aggregation, so its numRowsDroppedByWatermark counts (symbol, window) groups of a
  // batch's Kafka partition, not trades: two late trades of one symbol in one window and batch
  // count as one (the 1m query reports 2 drops for these 3 trades).
  const late = [trade('LATE.A', START_TS - 180_000, 90), trade('LATE.B', START_TS - 180_000, 91), trade('LATE.A', START_TS - 170_000, 92)];
  // On time again, after the late ones in the same partitions, so the batch that reads the late trades has more than them.
  const second = onTime(newestFirst + 250, 8, 250);
  const onTimeCount = first.length + second.length;

  const stats = new PipelineStats();
  const processor = new SparkProcessor(c, { stats, statusIntervalMs: 250, job: { topic: f.topic, barsTopic: f.barsTopic } });
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
