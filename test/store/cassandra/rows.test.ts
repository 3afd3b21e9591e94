import assert from 'node:assert/strict';
import { test } from 'node:test';
import cassandra from 'cassandra-driver';
import type { Bar, EpochMs, Offset, Price, Volume } from '../../../src/domain/index.ts';
import {
  BAR_COLUMNS,
  barFromRow,
  barParams,
  CHECKPOINT_COLUMNS,
  checkpointFromRow,
  checkpointParams,
  long,
  tradeFromRow,
  tradeParams,
  TRADE_COLUMNS,
  type CqlRow,
} from '../../../src/store/cassandra/rows.ts';
import type { StoredTrade } from '../../../src/store/store.ts';

const { Long } = cassandra.types;

/** What the driver hands back for bound values: bigint columns as Long, the rest as they were bound. */
function asRow(columns: readonly string[], params: readonly unknown[], bigints: readonly string[]): CqlRow {
  const row: Record<string, unknown> = {};
  columns.forEach((c, i) => {
    const v = params[i];
    row[c] = bigints.includes(c) && typeof v === 'number' ? Long.fromNumber(v) : v;
  });
  return row;
}

const trade: StoredTrade = {
  trade: {
    symbol: 'BINANCE:BTCUSDT',
    price: (0.1 + 0.2) as Price,
    volume: 1e-8 as Volume,
    ts: 1_709_251_199_999 as EpochMs,
    conditions: ['1', 'T'],
    source: 'finnhub',
    ingestTs: 1_709_251_200_004 as EpochMs,
  },
  seq: (2 ** 40 + 3) as Offset,
};

test('a trade binds in column order and maps back from a driver row unchanged', () => {
  const params = tradeParams('2024-02-29', trade);
  assert.equal(params.length, TRADE_COLUMNS.length);
  assert.equal(params[TRADE_COLUMNS.indexOf('day')], '2024-02-29');
  assert.deepEqual(tradeFromRow(asRow(TRADE_COLUMNS, params, ['ts', 'seq', 'ingest_ts'])), trade);
});

test('a trade without conditions comes back with an empty list when the driver returns null', () => {
  const row = { ...asRow(TRADE_COLUMNS, tradeParams('2024-02-29', trade), ['ts', 'seq', 'ingest_ts']), conditions: null };
  assert.deepEqual(tradeFromRow(row).trade.conditions, []);
});

test('a bar binds its TTL last and maps back exactly, vwap null included', () => {
  const bar: Bar = {
    symbol: 'AAPL',
    interval: '5s',
    windowStart: 1_709_251_195_000 as EpochMs,
    windowEnd: 1_709_251_200_000 as EpochMs,
    open: 1 / 3,
    high: 2 / 3,
    low: 0.1,
    close: Math.PI,
    volume: 0,
    vwap: null,
    avgPrice: Math.E,
    tradeCount: 2 ** 31 + 7,
  };
  const updatedAt = new Date(1_709_251_200_123);
  const params = barParams(bar, updatedAt, 604_800);
  assert.equal(params.length, BAR_COLUMNS.length + 1);
  assert.equal(params.at(-1), 604_800);
  assert.equal(params[BAR_COLUMNS.indexOf('updated_at')], updatedAt);
  const back = barFromRow(asRow(BAR_COLUMNS, params, ['window_start', 'window_end', 'trade_count']));
  assert.deepEqual(back, bar);
  assert.equal(back.vwap, null);
});

test('a checkpoint binds in column order and maps back', () => {
  const c = { engineId: 'group-a', partition: 3, offset: 123_456_789_012 as Offset, state: '{"windows":[]}' };
  const params = checkpointParams(c, new Date(0));
  assert.equal(params.length, CHECKPOINT_COLUMNS.length);
  assert.deepEqual(checkpointFromRow('group-a', asRow(CHECKPOINT_COLUMNS, params, ['next_offset'])), c);
});

test('long reads Long, bigint and number columns, and refuses anything else', () => {
  assert.equal(long({ v: Long.fromNumber(Number.MAX_SAFE_INTEGER) }, 'v'), Number.MAX_SAFE_INTEGER);
  assert.equal(long({ v: Long.fromNumber(-5) }, 'v'), -5);
  assert.equal(long({ v: 12n }, 'v'), 12);
  assert.equal(long({ v: 7 }, 'v'), 7);
  assert.throws(() => long({ v: null }, 'v'), /column v is not a bigint/);
  assert.throws(() => barFromRow({ symbol: 'A' }), TypeError);
});
