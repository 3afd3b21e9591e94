import assert from 'node:assert/strict';
import { test } from 'node:test';
import cassandra from 'cassandra-driver';
import fc from 'fast-check';
import type { EpochMs, Offset, Price, Volume } from '../../../src/domain/index.ts';
import { RepeatedValues } from '../../../src/store/cassandra/repeated-values.ts';
import { tradeParams, TRADE_COLUMNS } from '../../../src/store/cassandra/rows.ts';
import { utcDay } from '../../../src/store/cassandra/partitions.ts';

const { dataTypes } = cassandra.types;

/** The driver's own encoder at protocol v4 (exported at run time, missing from its .d.ts). */
interface DriverEncoder {
  encode(value: unknown, type: unknown): Buffer | null;
}
const DriverEncoder = (cassandra as unknown as { Encoder: new (version: number, options: object) => DriverEncoder }).Encoder;
const driver = new DriverEncoder(4, {});
const TEXT = { code: dataTypes.text };
const DATE = { code: dataTypes.date };
const TEXT_LIST = { code: dataTypes.list, info: { code: dataTypes.text } };

test('text, date and list<text> are encoded exactly as the driver encodes them', () => {
  const values = new RepeatedValues();
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme' }), fc.integer({ min: -1_000 * 86_400_000, max: 200_000 * 86_400_000 }), fc.array(fc.string({ unit: 'grapheme', minLength: 0, maxLength: 5 }), { maxLength: 4 }), (text, ts, list) => {
      assert.deepEqual(values.text(text), driver.encode(text, TEXT));
      const day = utcDay(ts);
      assert.deepEqual(values.date(day), driver.encode(day, DATE), day);
      assert.deepEqual(values.textList(list), driver.encode(list, TEXT_LIST));
    }),
  );
});

test('a repeated value is the same buffer every time, and an empty list binds null', () => {
  const values = new RepeatedValues();
  assert.equal(values.text('AAPL'), values.text('AAPL'));
  assert.equal(values.date('2024-02-29'), values.date('2024-02-29'));
  assert.equal(values.textList(['1', 'T']), values.textList(['1', 'T']));
  assert.notEqual(values.textList(['1', 'T']), values.textList(['1T']));
  assert.equal(values.textList([]), null);
});

test('the caches are bounded: past the limit they start again and still answer right', () => {
  const values = new RepeatedValues(3);
  for (let i = 0; i < 10; i++) assert.deepEqual(values.text(`S${i}`), Buffer.from(`S${i}`));
  assert.throws(() => values.date('not a day'), /not a YYYY-MM-DD day: not a day/);
});

test('a trade bound with repeated values carries the same bytes as one bound plainly', () => {
  const trade = {
    trade: { symbol: 'BINANCE:BTCUSDT', price: 0.3 as Price, volume: 1e-8 as Volume, ts: 1_709_251_199_999 as EpochMs, conditions: ['1', 'T'], source: 'finnhub' as const, ingestTs: 1_709_251_200_004 as EpochMs },
    seq: 42 as Offset,
  };
  const types = { symbol: TEXT, day: DATE, conditions: TEXT_LIST, source: TEXT };
  const plain = tradeParams('2024-02-29', trade);
  const encoded = tradeParams('2024-02-29', trade, new RepeatedValues());
  TRADE_COLUMNS.forEach((column, i) => {
    const type = types[column as keyof typeof types];
    if (type === undefined) assert.equal(encoded[i], plain[i], column);
    else assert.deepEqual(encoded[i], driver.encode(plain[i], type), column);
  });
});
