import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import cassandra from 'cassandra-driver';
import { snapshotStats } from '../../src/observability/pipeline-stats.ts';
import { stackDown, stackUp } from '../../src/stack/index.ts';
import { storedTradeCount } from '../support/bars.ts';
import { until } from '../support/until.ts';
import {
  assertExactAfterKill,
  assertExactBars,
  clusterRun,
  committedOffsets,
  pacedReplay,
  PROCESS,
  produceFile,
  roles,
  RUN,
  SETTLE_MS,
  storeOf,
  waitForStored,
} from './cluster-support.ts';
import { ensureStack, integrationConfig, integrationStackOptions } from './stack-fixture.ts';

// The cluster profile as `tickstream run --profile cluster` runs it: Kafka → TS engine →
// Cassandra, each test in a keyspace of its own (dropped at the end), checked against the
// embedded SQLite run of the same seeded input.
const keyspaces: string[] = [];

function freshKeyspace(name: string): string {
  const keyspace = `market_it_${name}_${RUN.toLowerCase()}`;
  keyspaces.push(keyspace);
  return keyspace;
}

after(async () => {
  if (keyspaces.length === 0) return;
  const config = integrationConfig();
  const client = new cassandra.Client({ contactPoints: [...config.cassandra.contactPoints], localDataCenter: config.cassandra.localDataCenter });
  try {
    for (const keyspace of keyspaces) await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => {});
  } finally {
    await client.shutdown().catch(() => {});
  }
});

test('simulator → Kafka → TS engine → Cassandra: the rows of bars equal the embedded SQLite run on the same seeded input', { timeout: 300_000 }, async (t) => {
  const stack = await ensureStack(['kafka', 'cassandra']);
  if (!stack) return t.skip('Java or Maven missing');
  const { symbols, input, config } = await clusterRun(t, 'cassandra', 'D', [20_000], 21, { store: 'cassandra', 'cassandra.keyspace': freshKeyspace('pipeline') });

  await produceFile(t, config, input.file, input.trades.length);
  const engine = await roles(t, config, PROCESS);
  const store = storeOf(engine);
  assert.equal(store.kind, 'cassandra', 'the cluster profile stores into Cassandra');
  await waitForStored(store, symbols, input.trades.length, 'the engine');
  await engine.flush();
  assert.equal(engine.stats.late, 0, 'no trade of the seeded input is late');
  await assertExactBars(t, store, config, input, symbols);
});

test('Cassandra stopped mid-stream and started again: offsets are held, the counters show the outage, and the final bars are exact', { timeout: 600_000 }, async (t) => {
  const stack = await ensureStack(['kafka', 'cassandra']);
  if (!stack) return t.skip('Java or Maven missing');
  const stackOptions = integrationStackOptions();
  const count = 20_000;
  const { symbols, input, groupId, config } = await clusterRun(t, 'cassandra-outage', 'E', [count], 22, {
    store: 'cassandra',
    'cassandra.keyspace': freshKeyspace('outage'),
  });

  // Spread over about 60 s: trades keep arriving in Kafka while Cassandra is away.
  const source = pacedReplay(input, 60_000);
  const set = await roles(t, config, { produce: true, process: true, serve: false }, source);
  const store = storeOf(set);
  await waitForStored(store, symbols, count / 20, 'the first trades before the outage');

  t.after(() => stackUp('cassandra', stackOptions));
  await stackDown('cassandra', stackOptions);
  await until(() => snapshotStats(set.stats).store_state === 'retrying', 'the stats to report the store as retrying', 60_000);
  assert.ok(set.stats.storeErrors > 0, 'failed writes are counted');

  // While the store is down, trades keep arriving but no offset is committed.
  const held = await committedOffsets(config, groupId);
  const producedAtCut = set.stats.produced;
  await until(() => set.stats.produced >= producedAtCut + 1_000 || source.status().state === 'finished', 'more trades to reach Kafka during the outage', 60_000);
  assert.equal(snapshotStats(set.stats).store_state, 'retrying', 'the store is still down');
  assert.deepEqual(await committedOffsets(config, groupId), held, 'no offset is committed while the store is down');
  assert.ok(snapshotStats(set.stats).store_failing_s >= 0);
  const errorsDuringOutage = set.stats.storeErrors;

  await stackUp('cassandra', stackOptions);
  await source.finished();
  await until(() => snapshotStats(set.stats).store_state === 'ok', 'the store to recover', SETTLE_MS);
  await waitForStored(store, symbols, count, 'every trade after Cassandra returned');
  await set.flush();
  assert.equal(set.stats.late, 0, 'no trade of the seeded input is late');
  assert.ok(set.stats.storeErrors >= errorsDuringOutage, 'the outage stays in the counters');
  const after = await committedOffsets(config, groupId);
  assert.ok(
    [...after].some(([partition, offset]) => offset > (held.get(partition) ?? -1n)),
    'offsets are committed again once the store is back',
  );
  // A trade stored twice would show up as one more stored trade; give one the time to arrive.
  await until(async () => (await storedTradeCount(store, symbols)) > count, 'no extra trade', 2_000, 200).catch(() => {});
  await assertExactBars(t, store, config, input, symbols);
});

test('a process role on Cassandra killed mid-stream (SIGKILL): the checkpoint, written last, is where the next engine resumes, and the bars are exact', { timeout: 300_000 }, async (t) => {
  const stack = await ensureStack(['kafka', 'cassandra']);
  if (!stack) return t.skip('Java or Maven missing');
  await assertExactAfterKill(t, await clusterRun(t, 'cassandra-crash', 'Q', [20_000], 23, { store: 'cassandra', 'cassandra.keyspace': freshKeyspace('crash') }));
});
