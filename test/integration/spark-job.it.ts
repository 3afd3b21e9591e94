import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import cassandra from 'cassandra-driver';
import { Processor, type LateEntry } from '../../src/app/index.ts';
import { statusLine } from '../../src/app/status-line.ts';
import { sparkJobStatus, SparkProcessor, sparkSessionIdFile } from '../../src/app/spark-processor.ts';
import { KafkaConsole, KafkaTradeConsumer, type SideLog, type UndecodableRecord } from '../../src/bus/index.ts';
import type { Config } from '../../src/config/index.ts';
import { epochMs, offset, type Bar, type Interval, type Trade } from '../../src/domain/index.ts';
import { batchBars } from '../../src/engine/index.ts';
import { createLogger, PipelineStats, snapshotStats } from '../../src/observability/index.ts';
import { TRADES_QUERY } from '../../src/spark/bar-job.ts';
import { SparkConnectClient, stopBarJob } from '../../src/spark/index.ts';
import { parseReplayLine, SimulatedMarket } from '../../src/source/index.ts';
import { openCassandraStore, type Store } from '../../src/store/index.ts';
import { storedBars, storedTrades } from '../support/bars.ts';
import { until } from '../support/until.ts';
import { testGroup } from '../support/test-groups.ts';
import { produceToTopic, sparkTestConfig } from './spark-support.ts';
import { ensureStack, type StackEndpoints } from './stack-fixture.ts';

// The same seeded trades go to a topic of this run, then through the Spark job into keyspace A
// and through the TS engine into keyspace B. Own topics keep Spark's watermark, which is global
// over everything the job reads, away from whatever other runs append to market.trades.
const RUN = `${Date.now().toString(36)}${process.pid.toString(36)}`;
const PARTITIONS = 4;
const LATENESS = '10s';
const SETTLE_MS = 240_000;
const SYMBOLS = ['AAPL', 'MSFT', 'NVDA', 'TSLA', 'BINANCE:BTCUSDT', 'OANDA:EUR_USD'];
/** 2026-01-05T09:30:00Z: fixed, so the windows the input falls into are the same on every run. */
const START_TS = 1_767_605_400_000;

function tempDir(t: TestContext, name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `tickstream-spark-job-${name}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * The seeded input, as NDJSON lines parse: 100 trades/s of event time over the symbols, each
 * step back in event time at most 2 s (well within the 10 s lateness), so no trade is late
 * for either engine.
 */
function seededTrades(count: number): Trade[] {
  const market = new SimulatedMarket({ seed: 6, symbols: SYMBOLS, rate: 100, disorderMs: 2_000, startTs: START_TS });
  const trades: Trade[] = [];
  for (let i = 0; i < count; i++) {
    const t = market.next();
    if (t === undefined) throw new Error('the market has no symbols');
    const line = JSON.stringify({ symbol: t.s, price: t.p, volume: t.v, ts: t.t, conditions: t.c ?? [] });
    const parsed = parseReplayLine(line, epochMs(START_TS));
    const trade = parsed.trades[0];
    if (trade === undefined) throw new Error(`seeded line did not parse: ${parsed.invalid[0]?.reason}`);
    trades.push(trade);
  }
  return trades;
}

class ArraySideLog<T> implements SideLog<T> {
  readonly entries: T[] = [];
  async append(entries: readonly T[]): Promise<void> {
    this.entries.push(...entries);
  }
  async close(): Promise<void> {}
}

interface Fixture {
  readonly stack: StackEndpoints;
  readonly topic: string;
  readonly barsTopic: string;
  readonly keyspaceA: string;
  readonly keyspaceB: string;
}

/** The topics and keyspaces of one test: `tag` keeps them apart from the other tests' of the run. */
async function fixture(t: TestContext, stack: StackEndpoints, tag = ''): Promise<Fixture> {
  const id = tag === '' ? RUN : `${tag}_${RUN}`;
  const f = { stack, topic: `it.spark.trades.${id}`, barsTopic: `it.spark.bars.${id}`, keyspaceA: `it_spark_a_${id}`, keyspaceB: `it_spark_b_${id}` };
  const kafka = new KafkaConsole({ brokers: [stack.kafkaBrokers], clientId: 'tickstream-it' });
  await kafka.createTopic({ name: f.topic, partitions: PARTITIONS });
  t.after(async () => {
    const admin = new KafkaConsole({ brokers: [stack.kafkaBrokers], clientId: 'tickstream-it' });
    for (const topic of [f.topic, f.barsTopic]) await admin.deleteTopic(topic).catch(() => false);
    await admin.close();
  });
  await kafka.close();
  t.after(async () => {
    const client = new cassandra.Client({ contactPoints: [stack.cassandraContactPoint], localDataCenter: 'datacenter1' });
    for (const ks of [f.keyspaceA, f.keyspaceB]) await client.execute(`DROP KEYSPACE IF EXISTS ${ks}`).catch(() => {});
    await client.shutdown();
  });
  return f;
}

function config(f: Fixture, dataDir: string, keyspace: string): Config {
  return sparkTestConfig(f.stack, dataDir, {
    lateness: LATENESS,
    statusInterval: '2s',
    'kafka.topicPartitions': String(PARTITIONS),
    'cassandra.keyspace': keyspace,
  });
}

function produce(f: Fixture, dataDir: string, trades: readonly Trade[]): Promise<void> {
  return produceToTopic(f.stack, f.topic, dataDir, trades);
}

function cassandraStore(t: TestContext, c: Config): Store {
  const store = openCassandraStore({ ...c.cassandra, contactPoints: [...c.cassandra.contactPoints] });
  t.after(() => store.close());
  return store;
}

/** Σ trade_count over the stored bars of each interval: every interval counts every trade once when it equals the input. */
async function countsPerInterval(store: Store, intervals: readonly Interval[]): Promise<number[]> {
  const bars = await storedBars(store, SYMBOLS, intervals);
  return intervals.map((i) => bars.filter((b) => b.interval === i.label).reduce((n, b) => n + b.tradeCount, 0));
}

async function waitForBarCounts(store: Store, intervals: readonly Interval[], count: number, what: string): Promise<void> {
  let last: number[] = [];
  try {
    await until(async () => (last = await countsPerInterval(store, intervals)).every((n) => n === count), what, SETTLE_MS, 500);
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)} (trade counts per interval: ${last.join(', ')}; want ${count})`, { cause: error });
  }
}

/** The TS engine of the cluster profile (Processor over a Kafka consumer group) on the run's topic, into keyspace B. */
async function tsEngineBars(t: TestContext, f: Fixture, c: Config, count: number): Promise<Store> {
  const store = cassandraStore(t, c);
  await store.migrate();
  const stats = new PipelineStats();
  const consumer = new KafkaTradeConsumer({
    brokers: [f.stack.kafkaBrokers],
    clientId: 'tickstream-it',
    groupId: testGroup([f.stack.kafkaBrokers], `it-spark-ts-${RUN}`),
    format: 'avro',
    topic: f.topic,
    deadLetters: new ArraySideLog<UndecodableRecord>(),
  });
  const late = new ArraySideLog<LateEntry>();
  const processor = new Processor({
    engineId: `it-spark-ts-${RUN}`,
    engine: { intervals: c.intervals, lateness: c.lateness },
    store,
    consumer,
    late,
    stats,
    flushIntervalMs: 50,
  });
  await processor.start();
  try {
    await until(() => stats.tradesStored + late.entries.length >= count, `the TS engine to store ${count} trades`, SETTLE_MS, 50);
    await processor.flush();
  } finally {
    await processor.close();
    await consumer.close();
  }
  assert.equal(late.entries.length, 0, 'no trade of the seeded input is late for the TS engine');
  return store;
}

/**
 * Whole bars, every field bit for bit: Spark folds a window's volume, Σ price·volume and Σ price
 * in Kafka offset order from 0, as the TS engine does, so no tolerance is needed even for the
 * windows whose trades span the restart (several micro-batches of state).
 */
function assertSameBars(spark: readonly Bar[], ts: readonly Bar[], what: string): void {
  assert.equal(spark.length, ts.length, `${what}: bar count`);
  for (const [i, s] of spark.entries()) assert.deepEqual(s, ts[i], `${what}: ${s.symbol} ${s.interval} ${s.windowStart}`);
}

test('Spark and the TS engine store the same final bars of one seeded input; the job stopped half-way resumes from its checkpoint', { timeout: 600_000 }, async (t) => {
  const stack = await ensureStack(['kafka', 'cassandra', 'spark']);
  if (!stack) return t.skip('Java or Maven missing');
  const f = await fixture(t, stack);
  const dataDir = tempDir(t, 'data');
  const sparkConfig = config(f, dataDir, f.keyspaceA);
  const tsConfig = config(f, tempDir(t, 'ts'), f.keyspaceB);
  const input = seededTrades(3_000);
  const firstPart = input.slice(0, 1_800);
  const secondPart = input.slice(1_800);
  const job = { topic: f.topic, barsTopic: f.barsTopic };

  // First half, then the job is stopped (its checkpoints stay in the data dir).
  await produce(f, dataDir, firstPart);
  const first = new SparkProcessor(sparkConfig, { job });
  t.after(() => first.close());
  await first.start();
  const storeA = cassandraStore(t, sparkConfig);
  await waitForBarCounts(storeA, sparkConfig.intervals, firstPart.length, 'Spark to store the bars of the first part');
  const running = await sparkJobStatus(sparkConfig);
  assert.deepEqual(
    running.map((r) => r.name).sort(),
    first.queries.map((q) => q.name ?? '').sort(),
    '`spark status` lists the queries of the running job',
  );
  await first.close();
  assert.deepEqual(await sparkJobStatus(sparkConfig), [], 'close() stops every query of the job');

  // Second half while the job is down; a new processor on the same data dir resumes.
  await produce(f, dataDir, secondPart);
  const warnings: string[] = [];
  const logger = createLogger({ level: 'warn', write: (line) => warnings.push(line) });
  const secondStats = new PipelineStats();
  const second = new SparkProcessor(sparkConfig, { job, logger, statusIntervalMs: 250, stats: secondStats });
  t.after(() => second.close());
  await second.start();
  await waitForBarCounts(storeA, sparkConfig.intervals, input.length, 'Spark to store the bars of the whole input');
  const tradesQuery = second.queries.find((q) => q.name === TRADES_QUERY);
  assert.ok(tradesQuery, 'the trades query runs');
  const readAfterRestart = (await tradesQuery.recentProgress()).reduce((n, p) => n + p.numInputRows, 0);
  assert.equal(readAfterRestart, secondPart.length, 'after the restart the job reads only what it had not read (its checkpointed offsets)');

  // `tickstream spark stop` from another process: the processor leaves the queries stopped and says so once for each.
  const elsewhere = new SparkConnectClient({ url: sparkConfig.spark.connectUrl, sessionIdFile: sparkSessionIdFile(sparkConfig) });
  try {
    assert.equal((await stopBarJob(elsewhere)).length, second.queries.length, 'spark stop stops every query of the job');
  } finally {
    elsewhere.close();
  }
  const stoppedLines = (): string[] => warnings.filter((l) => l.includes('spark query stopped from elsewhere'));
  await until(() => stoppedLines().length >= second.queries.length, 'a warning for each query stopped from elsewhere', 30_000, 100);
  await new Promise((r) => setTimeout(r, 1_500)); // six more checks
  const named = stoppedLines().map((l) => /query=(\S+)/.exec(l)?.[1] ?? l).sort();
  assert.deepEqual(named, second.queries.map((q) => q.name ?? '').sort(), `one warning per stopped query, not one per check:\n${warnings.join('\n')}`);
  assert.deepEqual(await sparkJobStatus(sparkConfig), [], 'the processor does not start them again');
  const wire = snapshotStats(secondStats);
  assert.equal(wire.engine_state, 'stopped', 'but its stats no longer say its engine runs');
  assert.match(wire.engine_stopped ?? '', /stopped from elsewhere \(tickstream spark stop\); start this process again/);
  await second.close();

  // Spark's tables: every trade once, with its Kafka offset as seq; bars as batchBars computes them.
  const sparkTrades = await storedTrades(storeA, SYMBOLS);
  assert.equal([...sparkTrades.values()].reduce((n, s) => n + s.length, 0), input.length, 'Spark stored every trade once');
  const sparkBars = await storedBars(storeA, SYMBOLS, sparkConfig.intervals);
  assert.ok(sparkBars.length > SYMBOLS.length * sparkConfig.intervals.length, 'Spark stored bars of several windows');
  const reference = batchBars(
    input.map((trade, i) => ({ trade, offset: offset(i) })),
    sparkConfig.intervals,
  );
  const expected = SYMBOLS.toSorted().flatMap((symbol) =>
    sparkConfig.intervals.flatMap((interval) =>
      reference.filter((b) => b.symbol === symbol && b.interval === interval.label).sort((a, b) => a.windowStart - b.windowStart),
    ),
  );
  assertSameBars(sparkBars, expected, 'Spark vs batchBars');

  // The TS engine on the same topic: the same final bars, bit for bit, and the same trades.
  const storeB = await tsEngineBars(t, f, tsConfig, input.length);
  const tsBars = await storedBars(storeB, SYMBOLS, tsConfig.intervals);
  assertSameBars(sparkBars, tsBars, 'Spark vs TS engine');
  assert.deepEqual(sparkTrades, await storedTrades(storeB, SYMBOLS), 'both engines store the same trades with the same offsets');
});

test('the log lag is what the trades query has not processed: unknown before its first batch, 0 once caught up, and every trade appended after its queries were stopped', { timeout: 600_000 }, async (t) => {
  const stack = await ensureStack(['kafka', 'cassandra', 'spark']);
  if (!stack) return t.skip('Java or Maven missing');
  const f = await fixture(t, stack, 'lag');
  const dataDir = tempDir(t, 'lag');
  const c = config(f, dataDir, f.keyspaceA);
  const input = seededTrades(600);
  const before = input.slice(0, 400);
  const after = input.slice(400);
  await produce(f, dataDir, before);

  const stats = new PipelineStats();
  const processor = new SparkProcessor(c, { job: { topic: f.topic, barsTopic: f.barsTopic }, statusIntervalMs: 250, stats });
  t.after(() => processor.close());
  await processor.start();
  assert.equal(snapshotStats(stats).log_lag, null, 'before the first status check the lag is unknown, not 0');
  await until(() => stats.logLag === 0 && stats.processed >= before.length, 'the job to catch up with the topic (lag 0)', SETTLE_MS, 100);
  assert.equal(stats.processed, before.length, 'the job processed what the topic held');

  const elsewhere = new SparkConnectClient({ url: c.spark.connectUrl, sessionIdFile: sparkSessionIdFile(c) });
  try {
    await stopBarJob(elsewhere);
  } finally {
    elsewhere.close();
  }
  await until(() => stats.engineStopped !== undefined, 'the processor to see its queries stopped', 30_000, 100);
  await produce(f, dataDir, after);
  // Nothing else writes to the test's topic: the lag is exactly what was appended since.
  await until(() => stats.logLag === after.length, `the lag to reach the ${after.length} trades appended`, 30_000, 100);
  assert.equal(snapshotStats(stats).log_lag, after.length, '/api/stats says so');
  assert.match(statusLine(stats, undefined, { roles: { produce: false, process: true } }), new RegExp(` · lag ${after.length} · `), 'and the status line');
});
