import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tradeViolation } from '../../../src/domain/index.ts';
import { SimulatedMarket, type MarketOptions } from '../../../src/source/index.ts';
import type { FinnhubTrade } from '../../../src/source/index.ts';

const OPTIONS: MarketOptions = {
  seed: 42,
  symbols: ['AAPL', 'MSFT', 'BINANCE:BTCUSDT', 'OANDA:EUR_USD', 'ZZZ'],
  rate: 1_000,
  disorderMs: 250,
  startTs: 1_700_000_000_000,
};

const take = (market: SimulatedMarket, n: number): FinnhubTrade[] => Array.from({ length: n }, () => market.next()!);

test('the same seed gives the same trades; another seed does not', () => {
  const a = take(new SimulatedMarket(OPTIONS), 5_000);
  const b = take(new SimulatedMarket(OPTIONS), 5_000);
  const other = take(new SimulatedMarket({ ...OPTIONS, seed: 43 }), 5_000);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, other);
});

test('every simulated trade meets the Trade contract and conditions come in the three Finnhub forms', () => {
  const trades = take(new SimulatedMarket(OPTIONS), 20_000);
  for (const tr of trades) assert.equal(tradeViolation({ symbol: tr.s, price: tr.p, volume: tr.v, ts: tr.t }), undefined);
  assert.ok(trades.some((tr) => Array.isArray(tr.c) && tr.c.length > 1), 'stock trades with several conditions');
  assert.ok(trades.some((tr) => tr.c === null), 'crypto trades with "c": null');
  assert.ok(trades.some((tr) => !('c' in tr)), 'forex updates without conditions');
  assert.ok(trades.some((tr) => tr.v === 0), 'some zero-volume updates');
});

test('start prices are realistic for known symbols and the walk stays near them', () => {
  const trades = take(new SimulatedMarket(OPTIONS), 20_000);
  const near = (symbol: string, price: number, within: number): void => {
    const prices = trades.filter((tr) => tr.s === symbol).map((tr) => tr.p);
    assert.ok(prices.length > 100, `${symbol} trades`);
    for (const p of prices) assert.ok(Math.abs(p / price - 1) < within, `${symbol} at ${p}, expected near ${price}`);
  };
  near('AAPL', 190, 0.2);
  near('MSFT', 420, 0.2);
  near('BINANCE:BTCUSDT', 60_000, 0.3);
  near('OANDA:EUR_USD', 1.08, 0.05);
  const zzz = trades.find((tr) => tr.s === 'ZZZ')!.p;
  assert.ok(zzz >= 5 && zzz <= 1_000, `derived price of ZZZ: ${zzz}`);
  assert.equal(take(new SimulatedMarket({ ...OPTIONS, seed: 1 }), 5_000).find((tr) => tr.s === 'ZZZ') !== undefined, true);
});

test('event time: bursts put several trades in one millisecond, steps back stay within disorder, the rate holds on average', () => {
  const market = new SimulatedMarket(OPTIONS);
  const trades = take(market, 50_000);
  let newest = -Infinity;
  let backSteps = 0;
  for (const tr of trades) {
    if (tr.t < newest) {
      backSteps++;
      assert.ok(newest - tr.t <= OPTIONS.disorderMs, `step back of ${newest - tr.t} ms`);
    }
    newest = Math.max(newest, tr.t);
  }
  assert.ok(backSteps > 0, 'some trades out of order');
  const perMs = new Map<number, number>();
  for (const tr of trades) perMs.set(tr.t, (perMs.get(tr.t) ?? 0) + 1);
  assert.ok([...perMs.values()].some((n) => n >= 3), 'several trades in one ms');
  const seconds = market.nextOffsetMs / 1_000;
  const rate = trades.length / seconds;
  assert.ok(rate > 800 && rate < 1_250, `mean rate ${rate.toFixed(0)}/s for a configured 1000/s`);
});

test('no disorder when disorderMs is 0', () => {
  const trades = take(new SimulatedMarket({ ...OPTIONS, disorderMs: 0 }), 20_000);
  for (let i = 1; i < trades.length; i++) assert.ok(trades[i]!.t >= trades[i - 1]!.t);
});

test('holdAt keeps event time from passing a bound without changing what trades: later trades share that millisecond', () => {
  const unpaced = { ...OPTIONS, rate: 0, disorderMs: 0 };
  const free = take(new SimulatedMarket(unpaced), 3_000);
  const held = new SimulatedMarket(unpaced);
  const trades = Array.from({ length: 3_000 }, () => {
    held.holdAt(10);
    return held.next()!;
  });
  // At a nominal 100k trades/s, 3,000 trades span about 30 ms: the last 2,000 or so are held at 10 ms.
  assert.ok(free.at(-1)!.t - OPTIONS.startTs > 20, 'the free market runs past the bound');
  assert.ok(trades.every((tr) => tr.t - OPTIONS.startTs <= 10), 'no held trade passes the bound');
  assert.ok(trades.filter((tr) => tr.t - OPTIONS.startTs === 10).length > 1_000, 'the held trades share its millisecond');
  assert.deepEqual(trades.map(({ t: _, ...rest }) => rest), free.map(({ t: _, ...rest }) => rest), 'the same symbols, prices and volumes');
});
