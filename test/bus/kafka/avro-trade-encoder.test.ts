import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { AvroTradeEncoder, MAX_AVRO_LONG } from '../../../src/bus/kafka/avro-trade-encoder.ts';
import { loadTradeAvroType } from '../../../src/bus/kafka/trade-codec.ts';
import { epochMs, price, toTradeRecord, TRADE_SOURCES, volume, type Trade } from '../../../src/domain/index.ts';
import { InputError } from '../../../src/errors.ts';

const LIMIT = MAX_AVRO_LONG;

const tradeArb = (symbols: fc.Arbitrary<string>): fc.Arbitrary<Trade> =>
  fc.record({
    symbol: symbols,
    price: fc.double({ min: Number.MIN_VALUE, max: 1e300, noNaN: true, noDefaultInfinity: true }).map(price),
    volume: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1e12, noNaN: true, noDefaultInfinity: true })).map((v) => volume(Math.abs(v))),
    // Past the 32-bit range on both sides, so a varint cut short by bitwise arithmetic would show.
    ts: fc.oneof(fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.integer({ min: -LIMIT, max: LIMIT })).map(epochMs),
    conditions: fc.array(fc.string({ maxLength: 300, unit: 'binary' }), { maxLength: 70 }),
    source: fc.constantFrom(...TRADE_SOURCES),
    ingestTs: fc.oneof(fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.integer({ min: -LIMIT, max: LIMIT })).map(epochMs),
  });

// If this fails after schemas/trade.avsc changed, change AvroTradeEncoder to match the schema.
test('the hand-written encoder writes the same bytes as avsc for every trade', () => {
  const type = loadTradeAvroType();
  const encoder = new AvroTradeEncoder();
  fc.assert(
    fc.property(tradeArb(fc.string({ minLength: 1, maxLength: 200, unit: 'binary' })), (trade) => {
      assert.deepEqual(encoder.encode(trade), type.toBuffer(toTradeRecord(trade)));
    }),
    { numRuns: 2_000 },
  );
});

test('cached strings give the same bytes as fresh ones, also after the cache was emptied at its limit', () => {
  const type = loadTradeAvroType();
  const encoder = new AvroTradeEncoder(3);
  const symbols = fc.constantFrom('AAPL', 'BINANCE:BTCUSDT', 'é€😀', 'X', 'OANDA:EUR_USD');
  fc.assert(
    fc.property(fc.array(tradeArb(symbols), { minLength: 1, maxLength: 20 }), (trades) => {
      for (const trade of trades) assert.deepEqual(encoder.encode(trade), type.toBuffer(toTradeRecord(trade)));
    }),
    { numRuns: 300 },
  );
});

test('an event time that is not an integer is rejected with a typed error naming the field', () => {
  const encoder = new AvroTradeEncoder();
  const good: Trade = { symbol: 'AAPL', price: price(1), volume: volume(1), ts: epochMs(1), conditions: [], source: 'simulator', ingestTs: epochMs(2) };
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, 1.5, MAX_AVRO_LONG + 1, -(2 ** 60)]) {
    assert.throws(() => encoder.encode({ ...good, ts: epochMs(bad) }), (e: unknown) => e instanceof InputError && /ts/.test(e.reason));
    assert.throws(() => encoder.encode({ ...good, ingestTs: epochMs(bad) }), (e: unknown) => e instanceof InputError && /ingest_ts/.test(e.reason));
  }
  assert.throws(() => encoder.encode({ ...good, source: 'nowhere' as Trade['source'] }), (e: unknown) => e instanceof InputError && /source/.test(e.reason));
});
