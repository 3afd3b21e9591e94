import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryLog, type LogRecord } from '../../src/bus/index.ts';
import { epochMs, offset, partitionOf, price, volume, type Offset, type Trade } from '../../src/domain/index.ts';

const SYMBOLS = ['AAPL', 'MSFT', 'BINANCE:BTCUSDT', 'TSLA', 'NVDA'];

function trades(n: number, from = 0): Trade[] {
  return Array.from({ length: n }, (_, i) => ({
    symbol: SYMBOLS[(from + i) % SYMBOLS.length]!,
    price: price(100 + i),
    volume: volume(1),
    ts: epochMs(1_700_000_000_000 + from + i),
    conditions: [],
    source: 'simulator' as const,
    ingestTs: epochMs(0),
  }));
}

function collector(resume = new Map<number, Offset>(), onRecords?: () => Promise<void>) {
  const seen: LogRecord[] = [];
  return {
    seen,
    handler: {
      assigned: async () => resume,
      revoked: async () => {},
      records: async (_p: number, records: readonly LogRecord[]) => {
        seen.push(...records);
        await onRecords?.();
      },
    },
  };
}

async function until(cond: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

test('records are partitioned by symbol hash with dense offsets in arrival order', async () => {
  const log = new MemoryLog({ partitions: 4, capacity: 1_000 });
  const { seen, handler } = collector();
  await log.consumer().start(handler);
  const input = trades(200);
  await log.append(input);
  await until(() => seen.length === 200, 'all records');
  const byPartition = new Map<number, LogRecord[]>();
  for (const r of seen) {
    assert.equal(r.partition, partitionOf(r.trade.symbol, 4));
    byPartition.set(r.partition, [...(byPartition.get(r.partition) ?? []), r]);
  }
  for (const records of byPartition.values()) {
    assert.deepEqual(records.map((r) => r.offset), records.map((_, i) => i));
  }
  const expectedOrder = input.filter((t) => partitionOf(t.symbol, 4) === seen[0]!.partition);
  assert.deepEqual(byPartition.get(seen[0]!.partition)!.map((r) => r.trade), expectedOrder);
  log.close();
});

test('a slow consumer slows the producer down and nothing is dropped', async () => {
  const log = new MemoryLog({ partitions: 1, capacity: 16, maxBatch: 4 });
  let release: (() => void) | undefined;
  const { seen, handler } = collector(new Map(), () => new Promise<void>((r) => (release = r)));
  await log.consumer().start(handler);
  let appended = false;
  const appending = log.append(trades(100)).then(() => (appended = true));
  await until(() => release !== undefined, 'first delivery');
  // The consumer holds its first batch; the producer can get at most `capacity` ahead.
  await new Promise((r) => setImmediate(r));
  assert.equal(appended, false);
  assert.ok(log.unread() <= 16, `unread ${log.unread()} exceeds the capacity`);
  while (!appended) {
    const r = release;
    release = undefined;
    r?.();
    await new Promise((res) => setImmediate(res));
  }
  await appending;
  while (seen.length < 100) {
    release?.();
    await new Promise((res) => setImmediate(res));
  }
  assert.deepEqual(seen.map((r) => r.trade.price), trades(100).map((t) => t.price));
  log.close();
});

test('offsets resume from the checkpoint the consumer returns', async () => {
  const log = new MemoryLog({ partitions: 2, capacity: 100 });
  const { seen, handler } = collector(new Map([[0, offset(500)], [1, offset(70)]]));
  await log.consumer().start(handler);
  await log.append(trades(10));
  await until(() => seen.length === 10, 'records');
  for (const r of seen) assert.ok(r.offset >= (r.partition === 0 ? 500 : 70));
  log.close();
});

test('commits are reflected in the lag, and appends after close fail', async () => {
  const log = new MemoryLog({ partitions: 1, capacity: 100 });
  const consumer = log.consumer();
  const { seen, handler } = collector();
  await consumer.start(handler);
  await log.append(trades(5));
  await until(() => seen.length === 5, 'records');
  assert.equal(consumer.lag().get(0), 5);
  await consumer.commit(new Map([[0, offset(5)]]));
  assert.equal(consumer.lag().get(0), 0);
  await consumer.close();
  await assert.rejects(log.append(trades(1)), /closed/);
});

test('a producer appending in a loop still lets timers run', async () => {
  const log = new MemoryLog({ partitions: 2, capacity: 1_000_000, yieldEveryMs: 1 });
  const { handler } = collector();
  await log.consumer().start(handler);
  let fired = false;
  const timer = setTimeout(() => (fired = true), 0);
  const deadline = performance.now() + 5_000;
  let appends = 0;
  // Without a yield inside append() this loop runs on microtasks alone and the timer never fires.
  while (!fired && appends < 1_000_000 && performance.now() < deadline) {
    await log.append(trades(10, appends));
    appends++;
  }
  clearTimeout(timer);
  log.close();
  assert.ok(fired, `the timer did not fire during ${appends} appends`);
});

test('an append never overtakes an earlier one that waits for space, so each symbol keeps its arrival order', async () => {
  const log = new MemoryLog({ partitions: 1, capacity: 16, maxBatch: 8 });
  const first = trades(40);
  const second = trades(40, 40);
  let later: Promise<void> | undefined;
  const { seen, handler } = collector(new Map(), async () => {
    // The source's next frame arrives right when the consumer has made room for the waiting append.
    later ??= log.append(second);
  });
  const earlier = log.append(first);
  await log.consumer().start(handler);
  await until(() => seen.length === 80, 'every record');
  await Promise.all([earlier, later]);
  assert.deepEqual(seen.map((r) => r.trade.ts), [...first, ...second].map((t) => t.ts));
  log.close();
});

test('close fails the appends that wait for space', async () => {
  const log = new MemoryLog({ partitions: 2, capacity: 16 });
  const waiting = log.append(trades(100));
  const queued = log.append(trades(5));
  log.close();
  await assert.rejects(waiting, /closed/);
  await assert.rejects(queued, /closed/);
});
