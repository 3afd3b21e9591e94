import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { Bar, EpochMs, Offset, Price, Volume } from '../../src/domain/index.ts';
import { StoreUnavailableError } from '../../src/errors.ts';
import { openSqliteStore, TradePacker } from '../../src/store/index.ts';
import { SqliteWorkerStore } from '../../src/store/sqlite/sqlite-worker-store.ts';
import type { StoredTrade } from '../../src/store/store.ts';
import { storeContract } from '../contract/store.contract.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-sqlite-worker-'));
  dirs.push(dir);
  return dir;
}
test.after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

storeContract('sqlite worker', async () => openSqliteStore({ path: join(tempDir(), 'store.db') }));
storeContract('sqlite worker in memory', async () => new SqliteWorkerStore({ path: ':memory:' }));

async function openStore(t: TestContext, path = join(tempDir(), 'store.db')): Promise<SqliteWorkerStore> {
  const store = new SqliteWorkerStore({ path });
  t.after(() => store.close());
  await store.migrate();
  return store;
}

function trades(count: number, startSeq = 0): StoredTrade[] {
  const t0 = Date.UTC(2024, 0, 2, 14, 30);
  return Array.from({ length: count }, (_, i) => ({
    trade: {
      symbol: `SYM${i % 7}`,
      price: (100 + (i % 13) * 0.5) as Price,
      volume: (i % 5) as Volume,
      ts: (t0 + i) as EpochMs,
      conditions: i % 2 === 0 ? ['1', '12'] : [],
      source: 'simulator' as const,
      ingestTs: (t0 + i + 2) as EpochMs,
    },
    seq: (startSeq + i) as Offset,
  }));
}

test('openSqliteStore writes from a worker by default, and in the calling thread with worker: false', async (t) => {
  const dir = tempDir();
  const inWorker = openSqliteStore({ path: join(dir, 'a.db') });
  const inThread = openSqliteStore({ path: join(dir, 'b.db'), worker: false });
  t.after(() => Promise.all([inWorker.close(), inThread.close()]));
  assert.ok(inWorker instanceof SqliteWorkerStore);
  assert.ok(!(inThread instanceof SqliteWorkerStore));
});

test('sqlite worker store: a worker crash rejects pending writes with StoreUnavailableError, and the next write starts a new worker', async (t) => {
  const store = await openStore(t);
  store.crashWorkerForTest();
  const pending = [store.write({ trades: trades(2_000), bars: [], checkpoints: [] }), store.write({ trades: trades(10, 5_000), bars: [], checkpoints: [] })];
  for (const write of pending) {
    await assert.rejects(write, (error: unknown) => {
      assert.ok(error instanceof StoreUnavailableError);
      assert.equal(error.code, 'TICKSTREAM_STORE_UNAVAILABLE');
      assert.equal(error.canRetry, true);
      assert.match(error.message, /worker .* stopped/);
      return true;
    });
  }
  const again = trades(50);
  await store.write({ trades: again, bars: [], checkpoints: [] });
  assert.equal((await store.trades({ symbol: 'SYM0', limit: 1000 })).length, again.filter((s) => s.trade.symbol === 'SYM0').length);
});

test('sqlite worker store: close waits for the writes already made', async (t) => {
  const path = join(tempDir(), 'store.db');
  const store = new SqliteWorkerStore({ path });
  t.after(() => store.close());
  await store.migrate();
  const batch = trades(20_000);
  const written = store.write({ trades: batch, bars: [], checkpoints: [] });
  const closed = store.close();
  await written;
  await closed;
  const reopened = await openStore(t, path);
  assert.equal((await reopened.trades({ symbol: 'SYM3', limit: 100_000 })).length, batch.filter((s) => s.trade.symbol === 'SYM3').length);
});

test('sqlite worker store: a failed write comes back as StoreUnavailableError with its cause', async (t) => {
  // Not migrated: the tables do not exist, so the insert fails inside the worker.
  const store = new SqliteWorkerStore({ path: join(tempDir(), 'store.db') });
  t.after(() => store.close());
  await assert.rejects(store.write({ trades: trades(3), bars: [], checkpoints: [] }), (error: unknown) => {
    assert.ok(error instanceof StoreUnavailableError);
    assert.match(error.message, /SQLite store write failed: .*no such table/);
    assert.ok(error.cause instanceof Error);
    assert.equal((error.cause as Error & { code?: string }).code, 'SQLITE_ERROR');
    return true;
  });
});

test('sqlite worker store: unicode symbols, odd conditions and zero volume read back equal', async (t) => {
  const store = await openStore(t);
  const odd: StoredTrade[] = [
    { trade: { ...trades(1)[0]!.trade, symbol: '株式:ÄÖ📈', volume: 0 as Volume, conditions: ['"', '\\', '\u0000', 'ü', ''] }, seq: 1 as Offset },
    { trade: { ...trades(1)[0]!.trade, symbol: '株式:ÄÖ📈', ts: (trades(1)[0]!.trade.ts + 1) as EpochMs, conditions: [] }, seq: 2 as Offset },
  ];
  await store.write({ trades: odd, bars: [], checkpoints: [] });
  assert.deepEqual(await store.trades({ symbol: '株式:ÄÖ📈', limit: 10 }), [...odd].reverse());
  assert.deepEqual(await store.symbols(), ['株式:ÄÖ📈']);
});

test('sqlite worker store: a batch that cannot cross to the worker rejects, and the store keeps working', async (t) => {
  const store = await openStore(t);
  const bar = { symbol: 'SYM1', interval: '5s', windowStart: 0, windowEnd: 5_000, open: 1, high: 1, low: 1, close: 1, volume: 1, vwap: 1, avgPrice: 1, tradeCount: 1 };
  const uncloneable = { ...bar, extra: () => 0 } as unknown as Bar;
  await assert.rejects(store.write({ trades: trades(3), bars: [uncloneable], checkpoints: [] }), StoreUnavailableError);
  await store.write({ trades: trades(3), bars: [], checkpoints: [] });
  assert.equal((await store.trades({ symbol: 'SYM1', limit: 10 })).length, 1);
});

test('sqlite worker store: a batch that fails to cross to the worker leaves its packed trades whole, and the retry stores them all', async (t) => {
  const store = await openStore(t);
  const written = trades(40);
  const packer = new TradePacker(4);
  for (const { trade, seq } of written) packer.add(trade, seq);
  const packedTrades = packer.take();
  const bar = { symbol: 'SYM1', interval: '5s', windowStart: 0, windowEnd: 5_000, open: 1, high: 1, low: 1, close: 1, volume: 1, vwap: 1, avgPrice: 1, tradeCount: 1 } as unknown as Bar;
  await assert.rejects(store.write({ packedTrades, bars: [{ ...bar, extra: () => 0 } as unknown as Bar], checkpoints: [] }), StoreUnavailableError);
  await store.write({ packedTrades, bars: [bar], checkpoints: [] });
  for (const symbol of ['SYM0', 'SYM6']) {
    const expected = written.filter((w) => w.trade.symbol === symbol).reverse();
    assert.deepEqual(await store.trades({ symbol, limit: 100 }), expected);
  }
});
