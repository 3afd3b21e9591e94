import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import fc from 'fast-check';
import { TRADE_SOURCES, type EpochMs, type Offset, type Price, type Volume } from '../../src/domain/index.ts';
import { packTrades, symbolTradesOf, symbolTradesOfPacked, TradePacker, transferListOf, unpackTrades, type PackedTrades } from '../../src/store/packed-trades.ts';
import { conditionsJson, conditionsJsonColumn } from '../../src/store/sqlite/rows.ts';
import type { StoredTrade } from '../../src/store/store.ts';

const symbolArb = fc.oneof(
  fc.constantFrom('AAPL', 'BINANCE:BTCUSDT', 'OANDA:EUR_USD', 'Ω', 'föö', '株式', '📈:BTC', 'a\u0000b'),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }),
);
const conditionArb = fc.oneof(fc.constantFrom('1', '12', 'T', '', '"', '\\', '\u001f'), fc.string({ unit: 'binary', maxLength: 6 }));

const storedTradeArb: fc.Arbitrary<StoredTrade> = fc
  .tuple(
    symbolArb,
    fc.double({ min: Number.MIN_VALUE, max: 1e12, noNaN: true, noDefaultInfinity: true }),
    fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1e9, noNaN: true, noDefaultInfinity: true })),
    fc.integer({ min: 0, max: 2 ** 48 }),
    fc.oneof(fc.constant([]), fc.array(conditionArb, { maxLength: 5 })),
    fc.constantFrom(...TRADE_SOURCES),
    fc.integer({ min: 0, max: 2 ** 48 }),
    fc.maxSafeNat(),
  )
  .map(([symbol, price, volume, ts, conditions, source, ingestTs, seq]) => ({
    trade: { symbol, price: price as Price, volume: volume as Volume, ts: ts as EpochMs, conditions, source, ingestTs: ingestTs as EpochMs },
    seq: seq as Offset,
  }));

/** Sends the packed batch through a real MessagePort, transferring its buffers as the store does. */
function acrossThreads(packed: PackedTrades): PackedTrades {
  const { port1, port2 } = new MessageChannel();
  try {
    port1.postMessage(packed, transferListOf(packed));
    const received = receiveMessageOnPort(port2);
    assert.ok(received !== undefined, 'the message arrived');
    return received.message as PackedTrades;
  } finally {
    port1.close();
    port2.close();
  }
}

test('packed trades unpack to equal trades: unicode symbols, empty conditions, zero volume, every source', () => {
  fc.assert(
    fc.property(fc.array(storedTradeArb, { maxLength: 200 }), (trades) => {
      assert.deepEqual(unpackTrades(packTrades(trades)), trades);
    }),
    { numRuns: 300 },
  );
});

test('packed trades survive a transfer to another port unchanged, and the sender gives up its buffers', () => {
  fc.assert(
    fc.property(fc.array(storedTradeArb, { minLength: 1, maxLength: 100 }), (trades) => {
      const packed = packTrades(trades);
      const received = acrossThreads(packed);
      assert.equal(packed.numbers.length, 0, 'the number columns were moved, not copied');
      assert.deepEqual(unpackTrades(received), trades);
    }),
    { numRuns: 100 },
  );
});

test('an empty batch packs to empty columns', () => {
  const packed = packTrades([]);
  assert.equal(packed.count, 0);
  assert.deepEqual(unpackTrades(packed), []);
});

test('conditions are stored as the JSON of the list, whatever characters they hold', () => {
  fc.assert(
    fc.property(fc.array(conditionArb, { maxLength: 6 }), (conditions) => {
      const text = conditionsJson(conditions);
      assert.deepEqual(JSON.parse(text), conditions);
      assert.equal(text, JSON.stringify(conditions));
    }),
  );
});

test('the conditions column of a packed batch is each trade\'s conditions as JSON, also for lists whose text is cut apart differently', () => {
  const withConditions = (trade: StoredTrade, conditions: readonly string[]): StoredTrade => ({ ...trade, trade: { ...trade.trade, conditions } });
  // Same concatenated text, different lists: the column must not mix them up.
  const lookalikes = fc.constantFrom<readonly string[]>(['1', '12'], ['11', '2'], ['112'], ['1', '1', '2'], [], ['', '112'], ['112', '']);
  fc.assert(
    fc.property(fc.array(fc.tuple(storedTradeArb, fc.option(lookalikes, { nil: undefined })), { maxLength: 200 }), (rows) => {
      const trades = rows.map(([trade, conditions]) => (conditions === undefined ? trade : withConditions(trade, conditions)));
      assert.deepEqual(
        conditionsJsonColumn(packTrades(trades)),
        trades.map((t) => conditionsJson(t.trade.conditions)),
      );
    }),
    { numRuns: 300 },
  );
});

test('a trade packer used batch after batch packs each batch as packTrades does, growing past its first capacity', () => {
  const packer = new TradePacker(1);
  fc.assert(
    fc.property(fc.array(fc.array(storedTradeArb, { maxLength: 60 }), { maxLength: 4 }), (batches) => {
      for (const batch of batches) {
        for (const { trade, seq } of batch) packer.add(trade, seq);
        assert.equal(packer.count, batch.length);
        const packed = packer.take();
        assert.equal(packer.count, 0);
        assert.deepEqual(packed, packTrades(batch));
        assert.deepEqual(unpackTrades(packed), batch);
      }
    }),
    { numRuns: 200 },
  );
});

/** What a live view needs of each symbol's trades, worked out the plain way. */
function symbolTradesByHand(trades: readonly StoredTrade[], recent: number) {
  const symbols = [...new Set(trades.map((t) => t.trade.symbol))];
  return symbols.map((symbol) => {
    const mine = trades.filter((t) => t.trade.symbol === symbol);
    const latest = mine.reduce((a, b) => (b.trade.ts > a.trade.ts || (b.trade.ts === a.trade.ts && b.seq > a.seq) ? b : a));
    return { symbol, count: mine.length, first: mine[0], latest, recent: recent === 0 ? [] : mine.slice(-recent) };
  });
}

/** Few symbols and timestamps, so that symbols repeat, event time steps back and ts ties are broken by seq. */
const crowdedTradeArb: fc.Arbitrary<StoredTrade> = fc
  .tuple(storedTradeArb, fc.constantFrom('AAPL', 'MSFT', 'Ω'), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 3 }))
  .map(([t, symbol, ts, seq]) => ({ trade: { ...t.trade, symbol, ts: ts as EpochMs }, seq: seq as Offset }));

test("each symbol's trades of a batch: count, first, latest by (ts, seq) and the last few in log order, from objects and from packed columns alike", () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(crowdedTradeArb, storedTradeArb), { maxLength: 300, size: 'max' }), fc.integer({ min: 0, max: 25 }), (trades, recent) => {
      const expected = symbolTradesByHand(trades, recent);
      assert.deepEqual(symbolTradesOf(trades, recent), expected);
      assert.deepEqual(symbolTradesOfPacked(packTrades(trades), recent), expected);
    }),
    { numRuns: 300 },
  );
});
