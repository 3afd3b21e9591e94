import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import cassandra from 'cassandra-driver';
import type { EpochMs, Offset, Price, Volume } from '../../src/domain/index.ts';
import { batchBars } from '../../src/engine/index.ts';
import { CassandraStore } from '../../src/store/cassandra/cassandra-store.ts';
import type { StoredTrade } from '../../src/store/store.ts';
import { KEYSPACE, MARKET_QUERIES, marketDashboard } from '../../scripts/grafana.ts';
import { ensureStack, integrationConfig } from './stack-fixture.ts';

// Every CQL query of the market dashboard, with Grafana's variables and the plugin's time
// macros expanded as the plugin does (epoch ms), against a keyspace migrated for this run.
const endpoints = await ensureStack(['cassandra']);
const config = integrationConfig();
const keyspace = `grafana_it_${process.pid.toString(36)}${Date.now().toString(36)}`;
const SYMBOL = 'BINANCE:BTCUSDT';
let store: CassandraStore | undefined;
let client: cassandra.Client | undefined;

after(async () => {
  await store?.close();
  if (client !== undefined) {
    await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => {});
    await client.shutdown();
  }
});

/** The text the plugin sends to Cassandra for one panel query. */
function expand(query: string, vars: { symbol: string; interval: string; fromMs: number; toMs: number }): string {
  return query
    .replaceAll(`${KEYSPACE}.`, `${keyspace}.`)
    .replaceAll('$symbol', vars.symbol)
    .replaceAll('$interval', vars.interval)
    .replaceAll('$__timeFrom', String(vars.fromMs))
    .replaceAll('$__timeTo', String(vars.toMs));
}

test('each market panel query runs on the real Cassandra and returns the rows written', { skip: endpoints === undefined && 'no Java or Maven for the stack' }, async () => {
  store = new CassandraStore({
    contactPoints: [endpoints!.cassandraContactPoint],
    localDataCenter: config.cassandra.localDataCenter,
    concurrency: config.cassandra.concurrency,
    keyspace,
  });
  await store.migrate();
  client = new cassandra.Client({ contactPoints: [endpoints!.cassandraContactPoint], localDataCenter: config.cassandra.localDataCenter });

  // Trades of the last two minutes, kept within today (UTC) so the "latest trades" panel, which reads today's partition, sees them.
  const now = Date.now();
  const dayStart = now - (now % 86_400_000);
  const first = Math.max(dayStart, now - 120_000);
  const trades: StoredTrade[] = [];
  for (let i = 0; i < 60; i++) {
    const ts = first + Math.floor(((now - first) * i) / 60);
    trades.push({
      trade: { symbol: SYMBOL, price: (60_000 + (i % 7) * 3) as Price, volume: (0.1 + i / 100) as Volume, ts: ts as EpochMs, conditions: [], source: 'simulator', ingestTs: ts as EpochMs },
      seq: i as Offset,
    });
  }
  const bars = batchBars(trades.map((s) => ({ trade: s.trade, offset: s.seq })), config.intervals);
  await store.write({ trades, bars, checkpoints: [] });

  const symbols = await client.execute(expand(MARKET_QUERIES.symbols, { symbol: '', interval: '', fromMs: 0, toMs: 0 }));
  assert.deepEqual(symbols.rows.map((r) => r['symbol'] as string), [SYMBOL]);

  const vars = { symbol: SYMBOL, interval: config.intervals[0]!.label, fromMs: first - 60_000, toMs: now + 60_000 };
  const expectedBars = bars.filter((b) => b.interval === vars.interval).length;
  for (const name of ['candles', 'volume', 'vwap'] as const) {
    const result: cassandra.types.ResultSet = await client.execute(expand(MARKET_QUERIES[name], vars));
    assert.equal(result.rows.length, expectedBars, `${name}: one row per ${vars.interval} bar`);
    assert.equal(result.columns[0]?.name, 'symbol', `${name}: the plugin groups frames by the first column`);
    assert.ok(result.columns.some((c) => c.name === 'window_start'), `${name}: the time field`);
  }
  const outside = await client.execute(expand(MARKET_QUERIES.candles, { ...vars, fromMs: now + 3_600_000, toMs: now + 7_200_000 }));
  assert.equal(outside.rows.length, 0, 'the time range bounds the bars');

  const latest = await client.execute(expand(MARKET_QUERIES.trades, vars));
  assert.equal(latest.rows.length, trades.length);
  assert.equal(Number(latest.rows[0]!['ts']), trades.at(-1)!.trade.ts, 'newest first');

  // The dashboard JSON carries exactly these queries.
  const targets = (marketDashboard().panels ?? []).flatMap((p) => ((p as { targets?: { target?: string }[] }).targets ?? []).map((t) => t.target));
  for (const name of ['candles', 'volume', 'vwap', 'trades'] as const) assert.ok(targets.includes(MARKET_QUERIES[name]), name);
});
