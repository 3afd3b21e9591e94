import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { epochMs, MAX_PRICE, MAX_TRADE_TS, MAX_VOLUME, MIN_TRADE_TS, tradeViolation } from '../../../src/domain/index.ts';
import { finnhubTradeSchema, finnhubTradeToTrade } from '../../../src/source/finnhub/finnhub-protocol.ts';
import { parseFinnhubFrame, type ParsedFrame } from '../../../src/source/index.ts';

const AT = epochMs(1_700_000_000_500);
const parse = (text: string): ParsedFrame => parseFinnhubFrame(text, AT, 'finnhub');
const good = { p: 122.1, s: 'TSLA', t: 1_672_348_887_195, v: 1, c: ['1', '8', '24', '12'] };
const tradeMessage = (...data: unknown[]): string => JSON.stringify({ type: 'trade', data });
/** Raw text, because JSON.stringify cannot write NaN or a missing value the way a hostile server can. */
const rawTrade = (fields: string): string => `{"type":"trade","data":[{${fields}}]}`;

test('a valid trade message becomes domain trades with the source and the receive time', () => {
  const frame = parse(tradeMessage(good, { p: 60_000.5, s: 'BINANCE:BTCUSDT', t: 1_672_348_887_196, v: 0.0012, c: null }, { p: 1.08, s: 'OANDA:EUR_USD', t: 1_672_348_887_196, v: 0 }));
  assert.equal(frame.type, 'trade');
  assert.deepEqual(frame.invalid, []);
  assert.deepEqual(frame.trades, [
    { symbol: 'TSLA', price: 122.1, volume: 1, ts: 1_672_348_887_195, conditions: ['1', '8', '24', '12'], source: 'finnhub', ingestTs: AT },
    { symbol: 'BINANCE:BTCUSDT', price: 60_000.5, volume: 0.0012, ts: 1_672_348_887_196, conditions: [], source: 'finnhub', ingestTs: AT },
    { symbol: 'OANDA:EUR_USD', price: 1.08, volume: 0, ts: 1_672_348_887_196, conditions: [], source: 'finnhub', ingestTs: AT },
  ]);
});

const whole: [name: string, text: string, reason: RegExp][] = [
  ['not JSON', 'not json at all {', /not JSON/],
  ['empty frame', '', /not JSON/],
  ['JSON but not an object', '[1,2,3]', /invalid message/],
  ['no type', '{"data":[]}', /invalid message.*type/],
  ['type is not a string', '{"type":7}', /invalid message/],
  ['trade data is not an array', '{"type":"trade","data":"oops"}', /invalid trade message.*data/],
  ['trade without data', '{"type":"trade"}', /invalid trade message/],
];

for (const [name, text, reason] of whole) {
  test(`hostile frame (${name}) becomes one dead letter with the whole frame`, () => {
    const frame = parse(text);
    assert.equal(frame.type, 'invalid');
    assert.equal(frame.letter.raw, text);
    assert.match(frame.letter.reason, reason);
    assert.equal(frame.letter.receivedAt, AT);
    assert.equal(frame.letter.source, 'finnhub');
  });
}

const trades: [name: string, fields: string, reason: RegExp][] = [
  ['string price', '"p":"122.1","s":"AAPL","t":1,"v":1', /p must be number/],
  ['price "NaN"', '"p":"NaN","s":"AAPL","t":1,"v":1', /p must be number/],
  ['null price', '"p":null,"s":"AAPL","t":1,"v":1', /p must be number/],
  ['negative price', '"p":-5,"s":"AAPL","t":1,"v":1', /price must be a finite number > 0/],
  ['zero price', '"p":0,"s":"AAPL","t":1,"v":1', /price must be a finite number > 0/],
  ['negative volume', '"p":5,"s":"AAPL","t":1,"v":-1', /volume must be a finite number from 0 to 1e15, got -1/],
  ['volume beyond 1e15', '"p":5,"s":"AAPL","t":1704207845000,"v":2e15', /volume must be a finite number from 0 to 1e15, got 2000000000000000/],
  ['ts in microseconds', '"p":5,"s":"AAPL","t":1704207845000000,"v":1', /ts must be epoch milliseconds from 1990 to 2100, got 1704207845000000 \(microseconds/],
  ['a symbol with a space', '"p":5,"s":"BRK B","t":1704207845000,"v":1', /symbol must be 1-40 letters/],
  ['missing s', '"p":5,"t":1,"v":1', /required properties s/],
  ['empty s', '"p":5,"s":"","t":1,"v":1', /s must/],
  ['missing t', '"p":5,"s":"AAPL","v":1', /required properties t/],
  ['fractional t', '"p":5,"s":"AAPL","t":1.5,"v":1', /t must be integer/],
  ['negative t', '"p":5,"s":"AAPL","t":-1,"v":1', /ts must be epoch milliseconds/],
  ['conditions not strings', '"p":5,"s":"AAPL","t":1,"v":1,"c":[1]', /c\/0 must be string/],
  ['huge number overflowing to Infinity', '"p":1e999,"s":"AAPL","t":1,"v":1', /p must be number/],
];

for (const [name, fields, reason] of trades) {
  test(`hostile trade (${name}) becomes a dead letter for that trade with its reason`, () => {
    const frame = parse(rawTrade(fields));
    assert.equal(frame.type, 'trade');
    assert.deepEqual(frame.trades, []);
    assert.equal(frame.invalid.length, 1);
    const letter = frame.invalid[0]!;
    assert.match(letter.reason, reason);
    assert.equal(letter.raw, JSON.stringify(JSON.parse(`{${fields}}`)), 'raw is that one trade as JSON');
  });
}

test('the valid trades of a mixed message go through, in order, and each bad one is dead-lettered', () => {
  const frame = parse(tradeMessage(good, { p: 'abc', s: 'AAPL', t: 1, v: 1 }, { ...good, p: 123 }, 42, { ...good, s: undefined }, { ...good, p: 124 }));
  assert.equal(frame.type, 'trade');
  assert.deepEqual(frame.trades.map((t) => t.price), [122.1, 123, 124]);
  assert.equal(frame.invalid.length, 3);
  assert.deepEqual(frame.invalid.map((l) => l.raw), ['{"p":"abc","s":"AAPL","t":1,"v":1}', '42', JSON.stringify({ ...good, s: undefined })]);
});

test('ping, error and unknown types are recognised and carry no trades', () => {
  assert.deepEqual(parse('{"type":"ping"}'), { type: 'ping' });
  assert.deepEqual(parse('{"type":"error","msg":"Subscribing to too many symbols"}'), { type: 'error', message: 'Subscribing to too many symbols' });
  assert.deepEqual(parse('{"type":"error"}'), { type: 'error', message: 'null' });
  assert.deepEqual(parse('{"type":"news","data":[]}'), { type: 'unknown', messageType: 'news' });
});

test('an empty trade batch is a trade message with nothing in it', () => {
  assert.deepEqual(parse('{"type":"trade","data":[]}'), { type: 'trade', trades: [], invalid: [] });
});

/** Values near every edge of the Trade contract, in every field, plus wrong types. */
const edgyNumber = fc.oneof(
  fc.constantFrom(0, -0, 1, -1, 0.5, Number.MIN_VALUE, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, -Number.MAX_SAFE_INTEGER - 1, 1e300, Number.NaN, Infinity, -Infinity),
  fc.constantFrom(MIN_TRADE_TS - 1, MIN_TRADE_TS, MAX_TRADE_TS - 1, MAX_TRADE_TS, MAX_PRICE, MAX_PRICE * (1 + 2 ** -52), MAX_VOLUME, MAX_VOLUME * (1 + 2 ** -52)),
  fc.integer({ min: MIN_TRADE_TS - 1000, max: MAX_TRADE_TS + 1000 }),
  fc.double(),
  fc.integer(),
  fc.constantFrom('1', null, true, [], {}),
);
const edgyTrade = fc.record(
  {
    s: fc.oneof(fc.string({ maxLength: 3 }), fc.constantFrom(1, null, 'AAPL', 'BINANCE:BTCUSDT', 'BRK B', 'A'.repeat(40), 'A'.repeat(41))),
    p: edgyNumber,
    v: edgyNumber,
    t: edgyNumber,
    c: fc.oneof(fc.constant(null), fc.array(fc.string({ maxLength: 2 }), { maxLength: 2 }), fc.constantFrom([1], 'x')),
  },
  { requiredKeys: [] },
);

/** The rule as the Finnhub shape and the Trade contract state it, checked separately and slowly. */
const keepsContract = (item: unknown): boolean =>
  finnhubTradeSchema.Check(item) && tradeViolation({ symbol: item.s, price: item.p, volume: item.v, ts: item.t }) === undefined;

test('a trade passes exactly when it has the Finnhub shape and keeps the Trade contract, alone or among others', () => {
  fc.assert(
    fc.property(fc.array(edgyTrade, { minLength: 1, maxLength: 6 }), (items) => {
      for (const item of items) assert.equal(finnhubTradeToTrade(item, AT, 'finnhub').trade !== undefined, keepsContract(item), JSON.stringify(item));
      // Through JSON text, as a frame arrives (NaN and Infinity become null, -0 becomes 0).
      const sent = JSON.parse(JSON.stringify(items)) as unknown[];
      const frame = parse(JSON.stringify({ type: 'trade', data: items }));
      assert.equal(frame.type, 'trade');
      const kept = sent.filter(keepsContract) as { s: string; p: number; v: number; t: number }[];
      assert.deepEqual(frame.trades.map((t) => [t.symbol, t.price, t.volume, t.ts]), kept.map((i) => [i.s, i.p, i.v, i.t]));
      assert.equal(frame.invalid.length, sent.length - kept.length);
    }),
    { numRuns: 500 },
  );
});
