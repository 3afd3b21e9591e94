import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseInterval, type EpochMs, type Interval } from '../../src/domain/index.ts';
import { readRollup, rollupBars, rollupPlans, Turns } from '../../src/server/index.ts';
import type { BarQuery } from '../../src/store/store.ts';
import { bar } from './fixtures.ts';
import { MemoryStore } from './memory-store.ts';

const iv = (label: string): Interval => parseInterval(label) as Interval;

/** 1m bars of AAPL at the given minutes after T1 (aligned to the hour), each with a distinct close. */
const T1 = Date.UTC(2024, 4, 6, 13);
async function storeOfMinutes(minutes: readonly number[]): Promise<MemoryStore> {
  const store = new MemoryStore();
  await store.write({ trades: [], bars: minutes.map((m) => bar('AAPL', '1m', 60_000, T1 + m * 60_000, 100 + m)), checkpoints: [] });
  return store;
}

test('a roll-up read in chunks equals the roll-up of every source bar in range, back from to and forward from from, across gaps', async () => {
  const [plan5m, plan15m, plan1h] = rollupPlans([iv('5s'), iv('1m')]);
  await fc.assert(
    fc.asyncProperty(
      // Up to about half the minutes, so that most runs need several chunks.
      fc.uniqueArray(fc.integer({ min: 0, max: 600 }), { maxLength: 300, size: 'max' }),
      fc.constantFrom(plan5m, plan15m, plan1h),
      fc.option(fc.integer({ min: -30, max: 630 }), { nil: undefined }),
      fc.option(fc.integer({ min: -30, max: 630 }), { nil: undefined }),
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 1, max: 150 }),
      async (minutes, plan, fromMin, toMin, limit, chunk) => {
        if (plan === undefined) throw new Error('no plan');
        const store = await storeOfMinutes(minutes);
        const from = fromMin === undefined ? undefined : ((T1 + fromMin * 60_000 + 7) as EpochMs);
        const to = toMin === undefined ? undefined : ((T1 + toMin * 60_000 + 7) as EpochMs);
        if (from !== undefined && to !== undefined && from >= to) return;
        const size = plan.target.ms;
        const inRange = (ws: number) => (from === undefined || ws >= from) && (to === undefined || ws < to);
        const all = rollupBars(await store.bars({ symbol: 'AAPL', interval: '1m', limit: 10_000 }), plan.target).filter((b) => inRange(b.windowStart));
        const forward = from !== undefined && to === undefined;
        const expected = forward ? all.slice(0, limit) : all.slice(Math.max(0, all.length - limit));
        const asked: BarQuery[] = [];
        const recording = { bars: (q: BarQuery) => (asked.push(q), store.bars(q)) };
        const got = await readRollup(recording, plan, { symbol: 'AAPL', from, to, limit }, { chunk });
        assert.deepEqual(got, expected);
        const most = Math.max(chunk, (2 * size) / plan.source.ms);
        assert.ok(asked.every((q) => q.limit <= most), `every read asks for ${most} source bars at most`);
      },
    ),
    { numRuns: 300, seed: 20261207 },
  );
});

test('a roll-up reads no further back than the limit needs', async () => {
  const [plan5m] = rollupPlans([iv('5s'), iv('1m')]);
  if (plan5m === undefined) throw new Error('no plan');
  const store = await storeOfMinutes(Array.from({ length: 600 }, (_, m) => m));
  const asked: BarQuery[] = [];
  const got = await readRollup({ bars: (q) => (asked.push(q), store.bars(q)) }, plan5m, { symbol: 'AAPL', limit: 3 }, { chunk: 10 });
  assert.deepEqual(
    got.map((b) => b.windowStart),
    [585, 590, 595].map((m) => T1 + m * 60_000),
  );
  assert.equal(asked.length, 2, 'two chunks of 10 hold the newest three whole 5m windows');
  asked.length = 0;
  const forward = await readRollup({ bars: (q) => (asked.push(q), store.bars(q)) }, plan5m, { symbol: 'AAPL', from: T1 as EpochMs, limit: 3 }, { chunk: 10 });
  assert.deepEqual(
    forward.map((b) => b.windowStart),
    [0, 5, 10].map((m) => T1 + m * 60_000),
  );
  assert.equal(asked.length, 2, 'and forward, the oldest three');
});

test('the reads of roll-ups take turns, and the event loop runs between two of them', async () => {
  const turns = new Turns();
  const log: string[] = [];
  let inFlight = 0;
  const read = (name: string) => async () => {
    inFlight++;
    assert.equal(inFlight, 1, 'one read at a time');
    log.push(name);
    await new Promise((resolve) => setTimeout(resolve, 1));
    inFlight--;
    // What the event loop has to do when a read ends (a request that came in meanwhile) is done before the next read.
    setImmediate(() => log.push(`io after ${name}`));
    return name;
  };
  const results = await Promise.all([turns.run(read('a')), turns.run(read('b')), turns.run(async () => Promise.reject(new Error('broken'))).catch((e: Error) => e.message), turns.run(read('c'))]);
  assert.deepEqual(results, ['a', 'b', 'broken', 'c']);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(log, ['a', 'io after a', 'b', 'io after b', 'c', 'io after c']);
});
