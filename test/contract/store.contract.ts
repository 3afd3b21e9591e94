import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { Bar, EpochMs, Offset, Price, Volume } from '../../src/domain/index.ts';
import { TradePacker } from '../../src/store/index.ts';
import type { Checkpoint, StoredTrade, Store } from '../../src/store/store.ts';

/**
 * Behaviour every Store implementation must have. An implementation's test file calls
 * `storeContract('sqlite', open)`; `open` returns a fresh, empty store (not yet migrated).
 */
export function storeContract(name: string, open: () => Promise<Store>): void {
  const fresh = async (t: TestContext): Promise<Store> => {
    const store = await open();
    t.after(() => store.close());
    await store.migrate();
    return store;
  };

  test(`${name} store: migrating twice is a no-op the second time`, async (t) => {
    const store = await open();
    t.after(() => store.close());
    const first = await store.migrate();
    const second = await store.migrate();
    assert.ok(first.applied.length > 0, 'a new store applies its migrations');
    assert.deepEqual(second.applied, []);
    assert.equal(second.current, first.current);
  });

  test(`${name} store: writing the same batch twice leaves the same rows`, async (t) => {
    const store = await fresh(t);
    const trades = tradeRun('AAPL', T0, 20);
    const bars = [bar('AAPL', '1m', T0), bar('AAPL', '1m', T0 + MIN)];
    const checkpoints = [checkpoint('engine-a', 0, 20)];
    await store.write({ trades, bars, checkpoints });
    const once = { trades: await store.trades({ symbol: 'AAPL', limit: 1000 }), bars: await store.bars({ symbol: 'AAPL', interval: '1m', limit: 1000 }) };
    await store.write({ trades, bars, checkpoints });
    assert.deepEqual(await store.trades({ symbol: 'AAPL', limit: 1000 }), once.trades);
    assert.deepEqual(await store.bars({ symbol: 'AAPL', interval: '1m', limit: 1000 }), once.bars);
    assert.equal(once.trades.length, 20);
    assert.deepEqual(once.bars, bars);
  });

  test(`${name} store: a later version of a bar replaces the earlier one`, async (t) => {
    const store = await fresh(t);
    await store.write({ trades: [], bars: [bar('AAPL', '5s', T0)], checkpoints: [] });
    const updated = { ...bar('AAPL', '5s', T0), close: 123.5, high: 130, tradeCount: 9, volume: 42 };
    await store.write({ trades: [], bars: [updated], checkpoints: [] });
    assert.deepEqual(await store.bars({ symbol: 'AAPL', interval: '5s', limit: 10 }), [updated]);
  });

  test(`${name} store: bars are the newest limit in [from, to), ascending`, async (t) => {
    const store = await fresh(t);
    const all = Array.from({ length: 30 }, (_, i) => bar('MSFT', '1m', T0 + i * MIN));
    const otherInterval = Array.from({ length: 5 }, (_, i) => bar('MSFT', '5s', T0 + i * 5_000));
    const otherSymbol = [bar('AAPL', '1m', T0)];
    await store.write({ trades: [], bars: [...all].reverse().concat(otherInterval, otherSymbol), checkpoints: [] });

    assert.deepEqual(await store.bars({ symbol: 'MSFT', interval: '1m', limit: 1000 }), all);
    assert.deepEqual(await store.bars({ symbol: 'MSFT', interval: '1m', limit: 5 }), all.slice(25));
    const from = (T0 + 10 * MIN) as EpochMs;
    const to = (T0 + 20 * MIN) as EpochMs;
    assert.deepEqual(await store.bars({ symbol: 'MSFT', interval: '1m', from, to, limit: 1000 }), all.slice(10, 20));
    assert.deepEqual(await store.bars({ symbol: 'MSFT', interval: '1m', from, to, limit: 3 }), all.slice(17, 20));
    assert.deepEqual(await store.bars({ symbol: 'MSFT', interval: '1m', to, limit: 1000 }), all.slice(0, 20));
    assert.deepEqual(await store.bars({ symbol: 'MSFT', interval: '1m', from, limit: 1000 }), all.slice(10));
    assert.deepEqual(await store.bars({ symbol: 'MSFT', interval: '1h', limit: 1000 }), []);
    assert.deepEqual(await store.bars({ symbol: 'NOPE', interval: '1m', limit: 1000 }), []);
  });

  test(`${name} store: with from and no to, bars are the oldest limit from from, and pages go forward across days`, async (t) => {
    const store = await fresh(t);
    // Hourly bars over three UTC midnights, every ninth hour missing.
    const start = Date.UTC(2024, 2, 1, 20);
    const all = Array.from({ length: 60 }, (_, i) => bar('MSFT', '1h', start + i * HOUR)).filter((_, i) => i % 9 !== 4);
    await store.write({ trades: [], bars: [...all].reverse().concat(bar('MSFT', '1m', start), bar('AAPL', '1h', start + HOUR)), checkpoints: [] });

    const from = (start + 4 * HOUR) as EpochMs;
    const to = (start + 30 * HOUR) as EpochMs;
    const atOrAfter = all.filter((b) => b.windowStart >= from);
    assert.deepEqual(await store.bars({ symbol: 'MSFT', interval: '1h', from, limit: 3 }), atOrAfter.slice(0, 3));
    assert.deepEqual(await store.bars({ symbol: 'MSFT', interval: '1h', from, limit: 1000 }), atOrAfter);
    assert.deepEqual(await store.bars({ symbol: 'MSFT', interval: '1h', from: (start + 60 * HOUR) as EpochMs, limit: 3 }), []);
    // With to, or with neither, the newest limit as before.
    assert.deepEqual(await store.bars({ symbol: 'MSFT', interval: '1h', from, to, limit: 3 }), atOrAfter.filter((b) => b.windowStart < to).slice(-3));
    assert.deepEqual(await store.bars({ symbol: 'MSFT', interval: '1h', to, limit: 3 }), all.filter((b) => b.windowStart < to).slice(-3));
    assert.deepEqual(await store.bars({ symbol: 'MSFT', interval: '1h', limit: 3 }), all.slice(-3));

    // Each page from the last bar's window_start + 1 reads every bar once, in order.
    for (const limit of [1, 4, 7]) {
      const paged: Bar[] = [];
      let page = await store.bars({ symbol: 'MSFT', interval: '1h', from: 0 as EpochMs, limit });
      for (let i = 0; page.length > 0 && i < 100; i++) {
        paged.push(...page);
        page = await store.bars({ symbol: 'MSFT', interval: '1h', from: (page.at(-1)!.windowStart + 1) as EpochMs, limit });
      }
      assert.deepEqual(paged, all, `pages of ${limit}`);
    }
  });

  test(`${name} store: bar numbers round-trip exactly, vwap null stays null and integers stay integers`, async (t) => {
    const store = await fresh(t);
    const zeroVolume: Bar = { ...bar('BINANCE:BTCUSDT', '5s', T0), volume: 0, vwap: null };
    const odd: Bar = {
      ...bar('BINANCE:BTCUSDT', '5s', T0 + 5_000),
      open: 0.1 + 0.2,
      high: 1e-9 + 1,
      low: 1 / 3,
      close: 2 / 3,
      volume: 1e-8,
      vwap: Math.PI,
      avgPrice: Math.E,
      tradeCount: 2 ** 31 + 7,
    };
    await store.write({ trades: [], bars: [zeroVolume, odd], checkpoints: [] });
    const got = await store.bars({ symbol: 'BINANCE:BTCUSDT', interval: '5s', limit: 10 });
    assert.deepEqual(got, [zeroVolume, odd]);
    assert.equal(got[0]!.vwap, null);
    assert.ok(Number.isInteger(got[1]!.tradeCount) && Number.isInteger(got[1]!.windowStart));
  });

  test(`${name} store: trades come newest first, and before= pages back`, async (t) => {
    const store = await fresh(t);
    // Spans a UTC day boundary, and two trades share a timestamp (ordered by seq).
    const start = Date.UTC(2024, 2, 1) - 5_000;
    const trades = tradeRun('AAPL', start, 12, 1_000);
    const sameTs: StoredTrade = { trade: { ...trades[11]!.trade, price: 777 as Price }, seq: 12 as Offset };
    await store.write({ trades: [...trades, sameTs, ...tradeRun('MSFT', start, 3)], bars: [], checkpoints: [] });

    const newest = await store.trades({ symbol: 'AAPL', limit: 100 });
    assert.deepEqual(newest, [sameTs, ...trades].sort((a, b) => b.trade.ts - a.trade.ts || b.seq - a.seq));
    assert.equal(newest[0]!.seq, 12);
    assert.deepEqual(await store.trades({ symbol: 'AAPL', limit: 3 }), newest.slice(0, 3));
    const before = trades[6]!.trade.ts;
    const page = await store.trades({ symbol: 'AAPL', limit: 4, before });
    assert.deepEqual(page, newest.filter((s) => s.trade.ts < before).slice(0, 4));
    assert.ok(page.every((s) => s.trade.ts < before));
    assert.deepEqual(await store.trades({ symbol: 'AAPL', limit: 10, before: start as EpochMs }), []);
    assert.deepEqual(await store.trades({ symbol: 'NOPE', limit: 10 }), []);

    // Paging by the (ts, seq) of each page's last trade reads every trade once, across the day
    // boundary and through the two that share a timestamp.
    for (const limit of [1, 2, 5]) {
      const paged: StoredTrade[] = [];
      let page = await store.trades({ symbol: 'AAPL', limit });
      for (let i = 0; page.length > 0 && i < 20; i++) {
        paged.push(...page);
        const last = page.at(-1)!;
        page = await store.trades({ symbol: 'AAPL', limit, before: last.trade.ts, beforeSeq: last.seq });
      }
      assert.deepEqual(paged, newest, `pages of ${limit}`);
    }
    // A cursor at the shared timestamp: the trade with the lower seq is still ahead.
    const cursor = await store.trades({ symbol: 'AAPL', limit: 1, before: sameTs.trade.ts, beforeSeq: sameTs.seq });
    assert.deepEqual(cursor, [trades[11]]);
  });

  test(`${name} store: trade fields round-trip, conditions included`, async (t) => {
    const store = await fresh(t);
    const trade: StoredTrade = {
      trade: {
        symbol: 'OANDA:EUR_USD',
        price: 1.0823 as Price,
        volume: 0 as Volume,
        ts: (T0 + 17) as EpochMs,
        conditions: ['1', '12', 'T'],
        source: 'finnhub',
        ingestTs: (T0 + 25) as EpochMs,
      },
      seq: 123_456_789 as Offset,
    };
    await store.write({ trades: [trade], bars: [], checkpoints: [] });
    assert.deepEqual(await store.trades({ symbol: 'OANDA:EUR_USD', limit: 1 }), [trade]);
  });

  test(`${name} store: a large batch is written whole`, async (t) => {
    const store = await fresh(t);
    const trades = tradeRun('NVDA', T0, 5_003);
    await store.write({ trades, bars: [], checkpoints: [] });
    const got = await store.trades({ symbol: 'NVDA', limit: 10_000 });
    assert.equal(got.length, trades.length);
    assert.deepEqual(got.at(-1), trades[0]);
    assert.deepEqual(got[0], trades.at(-1));
  });

  test(`${name} store: trades packed as the engine packs them are stored as the same trades, and the batch is left whole for a retry`, async (t) => {
    const store = await fresh(t);
    const trades = [...tradeRun('AMD', T0, 300), ...tradeRun('OANDA:EUR_USD', T0 + 7, 200, 300)].sort((a, b) => a.trade.ts - b.trade.ts);
    const packer = new TradePacker(8);
    for (const { trade, seq } of trades) packer.add(trade, seq);
    const packedTrades = packer.take();
    const batch = { packedTrades, bars: [bar('AMD', '1m', T0)], checkpoints: [] };
    await store.write(batch);
    assert.equal(packedTrades.numbers.length, 5 * trades.length, 'the packed columns are still there for a retry');
    // As a retry after a failed write would: the same batch again leaves the same rows.
    await store.write(batch);
    for (const symbol of ['AMD', 'OANDA:EUR_USD']) {
      const expected = trades.filter((x) => x.trade.symbol === symbol).reverse();
      assert.deepEqual(await store.trades({ symbol, limit: 1_000 }), expected);
    }
    assert.equal((await store.bars({ symbol: 'AMD', interval: '1m', limit: 10 })).length, 1);
  });

  test(`${name} store: a batch of long and short runs of symbols, across midnight and with two sources, stores every trade as it came`, async (t) => {
    const store = await fresh(t);
    const midnight = Date.UTC(2024, 0, 3);
    const across = tradeRun('AAPL', midnight - 100 * 250, 300).map((x, i) => (i >= 200 && i < 220 ? { ...x, trade: { ...x.trade, source: 'replay' as const } } : x));
    const interleaved = [...across, ...tradeRun('MSFT', midnight - 9_000, 45, 300), ...tradeRun('TSLA', midnight - 1_000, 5, 100), ...tradeRun('BINANCE:BTCUSDT', midnight, 1)]
      // A bounded disorder, as a feed delivers it: each trade a little ahead of or behind its neighbours.
      .sort((a, b) => a.trade.ts + (a.seq % 5) * 200 - (b.trade.ts + (b.seq % 5) * 200));
    const trades = interleaved.map((x, i) => ({ ...x, seq: (1_000 + i) as Offset }));
    await store.write({ trades, bars: [], checkpoints: [] });
    for (const symbol of ['AAPL', 'MSFT', 'TSLA', 'BINANCE:BTCUSDT']) {
      const expected = trades.filter((x) => x.trade.symbol === symbol).sort((a, b) => b.trade.ts - a.trade.ts || b.seq - a.seq);
      assert.deepEqual(await store.trades({ symbol, limit: 1_000 }), expected, symbol);
    }
  });

  test(`${name} store: checkpoints round-trip per partition, and engines are kept apart`, async (t) => {
    const store = await fresh(t);
    assert.equal((await store.checkpoints('engine-a')).size, 0);
    await store.write({ trades: [], bars: [], checkpoints: [checkpoint('engine-a', 0, 10), checkpoint('engine-a', 3, 7), checkpoint('engine-b', 0, 99)] });
    await store.write({ trades: [], bars: [], checkpoints: [checkpoint('engine-a', 0, 15)] });
    const a = await store.checkpoints('engine-a');
    assert.deepEqual([...a.keys()].sort(), [0, 3]);
    assert.deepEqual(a.get(0), checkpoint('engine-a', 0, 15));
    assert.deepEqual(a.get(3), checkpoint('engine-a', 3, 7));
    const b = await store.checkpoints('engine-b');
    assert.deepEqual([...b.values()], [checkpoint('engine-b', 0, 99)]);
    assert.equal((await store.checkpoints('engine-c')).size, 0);
  });

  test(`${name} store: symbols lists every symbol that has trades or bars, once`, async (t) => {
    const store = await fresh(t);
    assert.deepEqual(await store.symbols(), []);
    await store.write({
      trades: [...tradeRun('AAPL', T0, 3), ...tradeRun('BINANCE:BTCUSDT', T0, 2)],
      bars: [bar('AAPL', '1m', T0), bar('MSFT', '5s', T0), bar('MSFT', '1m', T0)],
      checkpoints: [],
    });
    assert.deepEqual((await store.symbols()).sort(), ['AAPL', 'BINANCE:BTCUSDT', 'MSFT']);
  });

  test(`${name} store: a closed store rejects calls with StoreUnavailableError, and close is idempotent`, async (t) => {
    const store = await fresh(t);
    await store.close();
    await store.close();
    await assert.rejects(store.bars({ symbol: 'AAPL', interval: '1m', limit: 1 }), { code: 'TICKSTREAM_STORE_UNAVAILABLE' });
    await assert.rejects(store.write({ trades: tradeRun('AAPL', T0, 1), bars: [], checkpoints: [] }), { code: 'TICKSTREAM_STORE_UNAVAILABLE' });
  });
}

const T0 = Date.UTC(2024, 0, 2, 14, 30);
const MIN = 60_000;
const HOUR = 3_600_000;

function tradeRun(symbol: string, start: number, count: number, stepMs = 250): StoredTrade[] {
  return Array.from({ length: count }, (_, i) => ({
    trade: {
      symbol,
      price: (100 + i * 0.25) as Price,
      volume: (i % 4) as Volume,
      ts: (start + i * stepMs) as EpochMs,
      conditions: i % 3 === 0 ? ['1'] : [],
      source: 'simulator' as const,
      ingestTs: (start + i * stepMs + 3) as EpochMs,
    },
    seq: i as Offset,
  }));
}

function bar(symbol: string, interval: string, windowStart: number): Bar {
  const size = interval === '5s' ? 5_000 : interval === '1m' ? MIN : 3_600_000;
  const k = (windowStart / size) % 7;
  return {
    symbol,
    interval,
    windowStart: windowStart as EpochMs,
    windowEnd: (windowStart + size) as EpochMs,
    open: 100 + k,
    high: 101.5 + k,
    low: 99.25 + k,
    close: 100.75 + k,
    volume: 12 + k,
    vwap: 100.5 + k / 3,
    avgPrice: 100.4 + k / 7,
    tradeCount: 5 + k,
  };
}

function checkpoint(engineId: string, partition: number, offset: number): Checkpoint {
  return { engineId, partition, offset: offset as Offset, state: JSON.stringify({ engineId, partition, offset, windows: [] }) };
}
