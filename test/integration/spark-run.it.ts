import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import cassandra from 'cassandra-driver';
import { ALL_ROLES, startRoles } from '../../src/app/index.ts';
import { SparkProcessor, sparkSessionIdFile } from '../../src/app/spark-processor.ts';
import type { Config } from '../../src/config/index.ts';
import { toBarRecord, type BarRecord } from '../../src/domain/index.ts';
import { SparkConnectClient, stopBarJob } from '../../src/spark/index.ts';
import { ReplaySource } from '../../src/source/index.ts';
import { until } from '../support/until.ts';
import { embeddedBars, LATENESS, RUN, seededInput, SETTLE_MS, symbolsCovering, tempDir, topicPartitionCount } from './cluster-support.ts';
import { sparkTestConfig } from './spark-support.ts';
import { ensureStack, type StackEndpoints } from './stack-fixture.ts';

// `tickstream run --profile cluster --engine spark`: every role in one process, Spark as the
// engine. market.trades is the shared topic (its name is fixed), so the run keeps to symbols of
// its own, a keyspace and data dir of its own (hence a Spark session of its own), and a job that
// reads the topic from its end instead of from the start (see startJobAtLogEnd).
const TRADES = 1_200;

function sparkRunConfig(stack: StackEndpoints, dataDir: string, symbols: readonly string[]): Config {
  return sparkTestConfig(stack, dataDir, {
    port: '0',
    symbols: symbols.join(','),
    lateness: LATENESS,
    statusInterval: '2s',
    'cassandra.keyspace': `it_spark_run_${RUN.toLowerCase()}`,
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

test('run with the Spark engine serves, over /api/bars, the bars of the embedded TS engine, bit for bit', { timeout: 600_000 }, async (t) => {
  const stack = await ensureStack(['kafka', 'cassandra', 'spark']);
  if (!stack) return t.skip('Java or Maven missing');
  const dataDir = tempDir(t, 'spark-run');
  const probe = sparkRunConfig(stack, dataDir, ['AAPL']);
  const symbols = symbolsCovering(await topicPartitionCount(probe), 1, 'SR');
  const config = sparkRunConfig(stack, dataDir, symbols);
  dropKeyspaceAfter(t, stack, config.cassandra.keyspace);
  const input = seededInput(dataDir, symbols, [TRADES], 11);
  const intervals = config.intervals.map((i) => i.label);

  await startJobAtLogEnd(t, config);
  const source = new ReplaySource({ file: input.file, speed: 0 });
  const run = await startRoles(config, ALL_ROLES, { source });
  t.after(() => run.close());
  assert.ok(run.url !== undefined, 'the serve role listens');
  const url = run.url;
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
  const stats = (await (await fetch(`${url}/api/stats`)).json()) as { late: number; spark?: { queries: { name: string }[]; late_replay?: Record<string, number> } };
  assert.ok((stats.spark?.queries.length ?? 0) > 0, '/api/stats carries the Spark queries');
  assert.deepEqual(stats.spark?.late_replay, { unreplayed: 0, mismatches: 0, unseen: 0 }, '/api/stats carries the late replay, with nothing amiss');
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
});
