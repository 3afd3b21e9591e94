import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createTradeCodec, loadTradeAvroType, type TradeFormat } from '../../../src/bus/kafka/trade-codec.ts';
import { epochMs, MAX_PRICE, MAX_TRADE_TS, MAX_VOLUME, MIN_TRADE_TS, price, SYMBOL_PATTERN, TRADE_SOURCES, volume, type Trade } from '../../../src/domain/index.ts';
import { InputError } from '../../../src/errors.ts';

const FORMATS: readonly TradeFormat[] = ['avro', 'json'];

const tradeArb: fc.Arbitrary<Trade> = fc.record({
  symbol: fc.stringMatching(SYMBOL_PATTERN),
  price: fc.double({ min: Number.MIN_VALUE, max: MAX_PRICE, noNaN: true, noDefaultInfinity: true }).map(price),
  volume: fc.oneof(fc.constant(0), fc.double({ min: 0, max: MAX_VOLUME, noNaN: true, noDefaultInfinity: true })).map((v) => volume(Math.abs(v))),
  ts: fc.integer({ min: MIN_TRADE_TS, max: MAX_TRADE_TS - 1 }).map(epochMs),
  conditions: fc.array(fc.string({ maxLength: 4 }), { maxLength: 4 }),
  source: fc.constantFrom(...TRADE_SOURCES),
  ingestTs: fc.integer({ min: 0, max: 4_102_444_800_000 }).map(epochMs),
}).map((t) => ({ ...t }));

for (const format of FORMATS) {
  test(`${format}: every valid trade survives encode then decode unchanged`, () => {
    const codec = createTradeCodec(format);
    fc.assert(
      fc.property(tradeArb, (trade) => {
        assert.deepEqual(codec.decode(codec.encode(trade)), trade);
      }),
      { numRuns: 500 },
    );
  });

  test(`${format}: random bytes are rejected with a typed error, never a crash`, () => {
    const codec = createTradeCodec(format);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          const trade = codec.decode(Buffer.from(bytes));
          // The rare byte string that happens to decode must still be a valid trade.
          assert.ok(trade.price > 0 && Number.isFinite(trade.price));
        } catch (error) {
          assert.ok(error instanceof InputError, `expected InputError, got ${String(error)}`);
          assert.equal(error.code, 'TICKSTREAM_INPUT_INVALID');
          assert.ok(error.reason.length > 0);
        }
      }),
      { numRuns: 500 },
    );
  });
}

test('avro: a record that decodes but breaks the contract is rejected with the reason', () => {
  const type = loadTradeAvroType();
  const bytes = type.toBuffer({ symbol: 'AAPL', price: -1, volume: 1, ts: 1, conditions: [], source: 'replay', ingest_ts: 2 });
  assert.throws(() => createTradeCodec('avro').decode(bytes), (e: unknown) => e instanceof InputError && /price/.test(e.reason));
});

test('avro: truncated and over-long records are rejected', () => {
  const codec = createTradeCodec('avro');
  const good = codec.encode({
    symbol: 'AAPL',
    price: price(1),
    volume: volume(1),
    ts: epochMs(1),
    conditions: ['x'],
    source: 'simulator',
    ingestTs: epochMs(2),
  });
  assert.throws(() => codec.decode(good.subarray(0, good.length - 1)), InputError);
  assert.throws(() => codec.decode(Buffer.concat([good, Buffer.from([0])])), InputError);
});

test('json: NaN-like values, unknown sources and wrong shapes are named in the reason', () => {
  const codec = createTradeCodec('json');
  const base = { symbol: 'AAPL', price: 1, volume: 1, ts: 1, conditions: [], source: 'simulator', ingest_ts: 1 };
  const reasonOf = (value: unknown): string => {
    try {
      codec.decode(Buffer.from(JSON.stringify(value)));
    } catch (error) {
      assert.ok(error instanceof InputError);
      return error.reason;
    }
    assert.fail('expected a rejection');
  };
  assert.match(reasonOf({ ...base, price: null }), /price/);
  assert.match(reasonOf({ ...base, source: 'nasdaq' }), /source/);
  assert.match(reasonOf({ ...base, conditions: 'x' }), /conditions/);
  assert.match(reasonOf([1, 2]), /object/);
  assert.throws(() => codec.decode(Buffer.from('{"symbol":')), (e: unknown) => e instanceof InputError && /not JSON/.test(e.reason));
});

test('avro: a JSON record says it is JSON and that the topic is read as Avro; other bytes get no such hint', () => {
  const avro = createTradeCodec('avro');
  const json = createTradeCodec('json');
  const reasonOf = (bytes: Buffer): string => {
    try {
      avro.decode(bytes);
    } catch (e) {
      if (e instanceof InputError) return e.reason;
      throw e;
    }
    return assert.fail('expected a rejection');
  };
  const trade = json.encode({ symbol: 'AAPL', price: price(190.5), volume: volume(3), ts: epochMs(1_717_171_717_000), conditions: ['x'], source: 'simulator', ingestTs: epochMs(1_717_171_717_001) });
  assert.match(reasonOf(trade), /^not an Avro Trade \(\d+ bytes\): .*; it is JSON, and this topic is read as Avro \(kafka\.format avro\): its producer writes JSON with kafka\.format json$/);
  assert.match(reasonOf(Buffer.from('  [1, 2]')), /it is JSON/);
  for (const other of [Buffer.from('not a trade at all'), Buffer.from('{"symbol":'), Buffer.from([0xde, 0xad, 0xbe, 0xef])]) {
    assert.doesNotMatch(reasonOf(other), /JSON/, other.toString('hex'));
  }
});

for (const format of FORMATS) {
  test(`${format}: encoding a batch gives each trade's own bytes, in order`, () => {
    const codec = createTradeCodec(format);
    fc.assert(
      fc.property(fc.array(tradeArb, { maxLength: 40 }), (trades) => {
        const batch = codec.encodeAll(trades);
        assert.equal(batch.length, trades.length);
        trades.forEach((trade, i) => assert.deepEqual(batch[i], codec.encode(trade)));
      }),
      { numRuns: 200 },
    );
  });
}
