import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import cassandra from 'cassandra-driver';
import { ALL_ROLES, startRoles } from '../../src/app/index.ts';
import { SparkProcessor, sparkSessionIdFile } from '../../src/app/spark-processor.ts';
import type { Config } from '../../src/config/index.ts';
import { toBarRecord, type BarRecord } from '../../src/domain/index.ts';
import { SparkConnectClient, stopBarJob } from '../../src/spark/index.ts';
import { ReplaySource } from '../../src/source/index.ts';
import type { StatsWire } from '../../web/src/api.ts';
import { relay } from '../support/tcp-relay.ts';
import { until } from '../support/until.ts';
import { embeddedBars, LATENESS, RUN, seededInput, SETTLE_MS, symbolsCovering, tempDir, topicPartitionCount } from './cluster-support.ts';
import { sparkTestConfig } from './spark-support.ts';
import { ensureStack, type StackEndpoints } from './stack-fixture.ts';

// `tickstream run --profile cluster --engine spark`: every role in one process, Spark as the
// engine. market.trades is the shared topic (its name is fixed), so the run keeps to symbols of
// its own, a keyspace and data dir of its own (hence a Spark session of its own), and a job that
// reads the topic from its end instead of from the start (see startJobAtLogEnd).
const TRADES = 1_200;

function sparkRunConfig(stack: StackEndpoints, dataDir: string, symbols: readonly string[], keyspace: string): Config {
  return sparkTestConfig(stack, dataDir, {
    port: '0',
    symbols: symbols.join(','),
    lateness: LATENESS,
    statusInterval: '2s',
    'cassandra.keyspace': `it_${keyspace}_${RUN.toLowerCase()}`,
  });
}

/**
 * The process role starts the job from the earliest offsets of market.trades, which holds
 * whatever every other run appended to it. So the job is started first in the run's session,
 * from the log end, and left running: the process role then attaches to its queries by name
 * (a start is never sent twice). Returns once every query has made a trigger, so their
 * starting offsets are fixed before anything is produced.
 */
async function startJobAtLogEnd(t: TestContext, config: Config): Promise<void> {
  t.after(async () => {
    const client = new SparkConnectClient({ url: config.spark.connectUrl, sessionIdFile: sparkSessionIdFile(config) });
    try {
      await stopBarJob(client);
    } finally {
      client.close();
    }
  });
  const early = new SparkProcessor(config, { job: { startingOffsets: 'latest' }, detachOnClose: true });
  try {
    await early.start();
    await until(async () => (await Promise.all(early.queries.map((q) => q.lastProgress()))).every((p) => p !== null), 'every query of the job to make a trigger', SETTLE_MS, 250);
  } finally {
    await early.close();
  }
}

function dropKeyspaceAfter(t: TestContext, stack: StackEndpoints, keyspace: string): void {
  t.after(async () => {
    const client = new cassandra.Client({ contactPoints: [stack.cassandraContactPoint], localDataCenter: 'datacenter1' });
    await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => {});
    await client.shutdown();
  });
}

async function servedBars(url: string, symbols: readonly string[], intervals: readonly string[]): Promise<BarRecord[]> {
  const bars: BarRecord[] = [];
  for (const symbol of [...symbols].sort()) {
    for (const interval of intervals) {
      const response = await fetch(`${url}/api/bars?${new URLSearchParams({ symbol, interval, limit: '5000' }).toString()}`);
      assert.equal(response.status, 200, `GET /api/bars ${symbol} ${interval}`);
      bars.push(...((await response.json()) as BarRecord[]));
    }
  }
  return bars;
}

/**
 * `tickstream run --engine spark` over a seeded input, checked against the embedded TS engine. With
 * `kafkaAway`, the run's only way to Kafka is a relay cut before it starts: the source is spooled, the
 * job waits, and the relay is restored once `/api/stats` has said so.
 */
async function sparkRunMatchesEmbedded(t: TestContext, name: string, prefix: string, kafkaAway: boolean): Promise<void> {
  const stack = await ensureStack(['kafka', 'cassandra', 'spark']);
  if (!stack) return t.skip('Java or Maven missing');
  const dataDir = tempDir(t, name);
  const keyspace = name.replace(/-/g, '_');
  const probe = sparkRunConfig(stack, dataDir, ['AAPL'], keyspace);
  const symbols = symbolsCovering(await topicPartitionCount(probe), 1, prefix);
  const config = sparkRunConfig(stack, dataDir, symbols, keyspace);
  dropKeyspaceAfter(t, stack, config.cassandra.keyspace);
  const input = seededInput(dataDir, symbols, [TRADES], 11);
  const intervals = config.intervals.map((i) => i.label);

  await startJobAtLogEnd(t, config);
  const way = kafkaAway ? await relay(t, stack.kafkaBrokers) : undefined;
  await way?.cut();
  const runConfig = way === undefined ? config : { ...config, kafka: { ...config.kafka, brokers: [`127.0.0.1:${way.port}`] } };
  const source = new ReplaySource({ file: input.file, speed: 0 });
  const run = await startRoles(runConfig, ALL_ROLES, { source });
  t.after(() => run.close());
  assert.ok(run.url !== undefined, 'the serve role listens');
  const url = run.url;
  type SparkStats = StatsWire & { spark?: { queries?: { name: string }[]; late_replay?: Record<string, number> } };
  const readStats = async (): Promise<SparkStats> => (await (await fetch(`${url}/api/stats`)).json()) as SparkStats;
  if (way !== undefined) {
    await until(() => run.stats.spoolDepth > 0, 'trades to wait in the spool while Kafka is down', 30_000);
    const waiting = await readStats();
    assert.equal(waiting.engine_state, 'waiting', 'the stats say the Spark job waits for Kafka');
    assert.deepEqual(waiting.spark?.queries ?? [], [], 'no query of the job is driven yet');
    assert.equal(waiting.log_lag, null, 'the lag is unknown while the job waits, not 0');
    await way.restore();
  }
  await source.finished();

  const perSymbol = new Map<string, number>();
  for (const trade of input.trades) perSymbol.set(trade.symbol, (perSymbol.get(trade.symbol) ?? 0) + 1);
  const want = intervals.length * TRADES;
  let counted = 0;
  try {
    await until(
      async () => {
        const bars = await servedBars(url, symbols, intervals);
        counted = bars.reduce((n, b) => n + b.trade_count, 0);
        return counted === want;
      },
      'Spark bars of every trade served over /api/bars',
      SETTLE_MS,
      500,
    );
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)} (Σ trade_count ${counted}, want ${want})`, { cause: error });
  }
  const served = await servedBars(url, symbols, intervals);
  await until(async () => ((await readStats()).spark?.queries?.length ?? 0) > 0, '/api/stats to carry the Spark queries', 30_000, 500);
  const stats = await readStats();
  assert.deepEqual(stats.spark?.late_replay, { unreplayed: 0, mismatches: 0, unseen: 0 }, '/api/stats carries the late replay, with nothing amiss');
  assert.equal(stats.engine_state, 'ok', 'the Spark job runs');
  assert.equal(stats.spool_depth, 0, 'the spool is empty');
  assert.equal(typeof stats.log_lag, 'number', 'the lag is known once the job has run micro-batches');
  assert.equal(stats.late, 0, 'no trade of the seeded input is late');
  for (const symbol of symbols) {
    for (const interval of intervals) {
      const n = served.filter((b) => b.symbol === symbol && b.interval === interval).reduce((s, b) => s + b.trade_count, 0);
      assert.equal(n, perSymbol.get(symbol) ?? 0, `${symbol} ${interval}: every trade of the symbol is in one served bar`);
    }
  }
  await run.close();

  const embedded = (await embeddedBars(t, input, symbols)).map(toBarRecord);
  assert.deepEqual(served, JSON.parse(JSON.stringify(embedded)), 'the bars Spark stored, as served, are the embedded run\'s');
}

test('run with the Spark engine serves, over /api/bars, the bars of the embedded TS engine, bit for bit', { timeout: 600_000 }, (t) =>
  sparkRunMatchesEmbedded(t, 'spark-run', 'SR', false),
);

test('run with the Spark engine, started while Kafka does not answer, spools the source, starts the job once Kafka answers, and its bars are exact', { timeout: 600_000 }, (t) =>
  sparkRunMatchesEmbedded(t, 'spark-run-late-kafka', 'SK', true),
);
