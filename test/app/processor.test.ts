import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Processor, type ProcessorOptions } from '../../src/app/processor.ts';
import type { ConsumerHandler, LogRecord, SideLog, TradeLogConsumer } from '../../src/bus/index.ts';
import { epochMs, offset, parseInterval, price, volume, durationMs, type Interval, type Offset } from '../../src/domain/index.ts';
import { CheckpointError, StoreUnavailableError } from '../../src/errors.ts';
import { createLogger, PipelineStats } from '../../src/observability/index.ts';
import type { Checkpoint, FlushBatch, Store, SymbolTrades } from '../../src/store/store.ts';
import { storedTradesOf } from '../../src/store/index.ts';
import { readCheckpoint } from '../../src/engine/index.ts';

const INTERVALS = [parseInterval('5s'), parseInterval('1m')] as Interval[];
const T0 = 1_700_000_000_000;

function record(i: number, tsOffset = i * 10): LogRecord {
  return {
    partition: 0,
    offset: offset(i),
    trade: {
      symbol: 'AAPL',
      price: price(100 + (i % 7)),
      volume: volume(1 + (i % 3)),
      ts: epochMs(T0 + tsOffset),
      conditions: [],
      source: 'simulator',
      ingestTs: epochMs(Date.now()),
    },
  };
}

/** A store stand-in that records writes and can be told to fail. */
class RecordingStore implements Partial<Store> {
  writes: FlushBatch[] = [];
  failNext = 0;
  saved = new Map<number, Checkpoint>();
  async write(batch: FlushBatch): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new StoreUnavailableError('store is down (test)');
    }
    this.writes.push(batch);
    for (const c of batch.checkpoints) this.saved.set(c.partition, c);
  }
  async checkpoints(): Promise<Map<number, Checkpoint>> {
    return new Map(this.saved);
  }
}

class RecordingConsumer implements TradeLogConsumer {
  commits: Map<number, Offset>[] = [];
  handler: ConsumerHandler | undefined;
  resume: ReadonlyMap<number, Offset> = new Map();
  /** The log id handed over with the assignment, as Kafka's topic id is. */
  logId: string | undefined;
  async start(handler: ConsumerHandler): Promise<void> {
    this.handler = handler;
    this.resume = await handler.assigned([0], this.logId);
  }
  async commit(offsets: ReadonlyMap<number, Offset>): Promise<void> {
    this.commits.push(new Map(offsets));
  }
  lag(): ReadonlyMap<number, number> {
    return new Map();
  }
  /** The partitions the group gives this reader; undefined: all. */
  held: ReadonlySet<number> | undefined;
  holds(partition: number): boolean {
    return this.held?.has(partition) ?? true;
  }
  async close(): Promise<void> {}
}

const nullSide: SideLog<unknown> = { append: async () => {}, close: async () => {} };

function setup(store = new RecordingStore(), closeGraceMs?: number, more: Partial<ProcessorOptions> = {}) {
  const consumer = new RecordingConsumer();
  const stats = new PipelineStats();
  const processor = new Processor({
    engineId: 'test',
    engine: { intervals: INTERVALS, lateness: durationMs(10_000) },
    store: store as unknown as Store,
    consumer,
    late: nullSide,
    stats,
    flushIntervalMs: 60_000,
    ...(closeGraceMs === undefined ? {} : { closeGraceMs }),
    ...more,
  });
  return { store, consumer, stats, processor };
}

test('offsets are committed only after the store has the batch, and a failed write is retried without loss', async () => {
  const { store, consumer, stats, processor } = setup();
  await processor.start();
  await consumer.handler!.records(0, [record(0), record(1), record(2)]);
  store.failNext = 2;
  await processor.flush();
  assert.equal(stats.storeErrors, 2);
  assert.equal(store.writes.length, 1);
  assert.equal(storedTradesOf(store.writes[0]!).length, 3);
  assert.deepEqual(consumer.commits, [new Map([[0, offset(3)]])]);
  assert.equal(store.saved.get(0)?.offset, 3);
  await processor.close();
});

test("for the SQLite store a flush's trades go packed, not as objects, and onFlushed gets each symbol's count, first, latest and last few", async () => {
  const flushed: SymbolTrades[][] = [];
  const { store, consumer, processor } = setup(Object.assign(new RecordingStore(), { kind: 'sqlite' as const }), undefined, {
    onFlushed: (_bars, trades) => void flushed.push([...trades]),
    recentTradesPerSymbol: 2,
  });
  await processor.start();
  const msft = (i: number): LogRecord => ({ ...record(i), trade: { ...record(i).trade, symbol: 'MSFT' } });
  const records = [record(0), msft(1), record(2), record(3), msft(4)];
  await consumer.handler!.records(0, records);
  store.failNext = 1;
  await processor.flush();
  const batch = store.writes[0]!;
  assert.equal(batch.trades, undefined, 'no trade objects kept until the flush');
  assert.deepEqual(storedTradesOf(batch), records.map((r) => ({ trade: r.trade, seq: r.offset })));
  const stored = (i: number) => ({ trade: records[i]!.trade, seq: records[i]!.offset });
  assert.deepEqual(flushed, [
    [
      { symbol: 'AAPL', count: 3, first: stored(0), latest: stored(3), recent: [stored(2), stored(3)] },
      { symbol: 'MSFT', count: 2, first: stored(1), latest: stored(4), recent: [stored(1), stored(4)] },
    ],
  ]);
  await processor.close();
});

test('close() gives up on a store that stays down after the grace period: it rejects, and nothing more is written or committed', { timeout: 20_000 }, async () => {
  const { store, consumer, stats, processor } = setup(new RecordingStore(), 300);
  await processor.start();
  await consumer.handler!.records(0, [record(0), record(1)]);
  await processor.flush();
  assert.deepEqual(consumer.commits, [new Map([[0, offset(2)]])]);
  await consumer.handler!.records(0, [record(2), record(3)]);
  store.failNext = Number.MAX_SAFE_INTEGER;
  const started = performance.now();
  await assert.rejects(processor.close(), (error: unknown) => error instanceof StoreUnavailableError && /not stored nor committed/.test(error.message));
  assert.ok(performance.now() - started < 10_000, 'close() returned soon after the grace period');
  assert.ok(stats.storeErrors > 0);
  assert.equal(store.writes.length, 1, 'only the flush before the outage was written');
  assert.deepEqual(consumer.commits, [new Map([[0, offset(2)]])], 'the offsets stay at the last stored flush');
  store.failNext = 0;
  await assert.rejects(processor.flush(), StoreUnavailableError, 'a processor that gave up writes nothing more');
  assert.equal(store.writes.length, 1);
});

test('close() waits out a store that comes back within the grace period', async () => {
  const { store, consumer, processor } = setup(new RecordingStore(), 30_000);
  await processor.start();
  await consumer.handler!.records(0, [record(0), record(1)]);
  store.failNext = 3;
  await processor.close();
  assert.equal(store.writes.length, 1);
  assert.deepEqual(consumer.commits, [new Map([[0, offset(2)]])]);
});

test('a restart resumes from the checkpoint and skips records it has already counted', async () => {
  const first = setup();
  await first.processor.start();
  await first.consumer.handler!.records(0, [record(0), record(1)]);
  await first.processor.close();

  const second = setup(first.store);
  await second.processor.start();
  assert.deepEqual(second.consumer.resume, new Map([[0, offset(2)]]));
  // The log redelivers from an older position: offsets 0 and 1 must not count twice.
  await second.consumer.handler!.records(0, [record(0), record(1), record(2)]);
  await second.processor.close();
  const last = second.store.writes.at(-1)!;
  assert.deepEqual(storedTradesOf(last).map((t) => t.seq), [2]);
  const bar5s = last.bars.find((b) => b.interval === '5s')!;
  assert.equal(bar5s.tradeCount, 3);
});

test('a checkpoint saved on a log that was created again is not resumed: the start fails naming the partition and both ids', async () => {
  const first = setup();
  first.consumer.logId = 'old-topic-id';
  await first.processor.start();
  await first.consumer.handler!.records(0, [record(0), record(1)]);
  await first.processor.close();
  assert.equal(readCheckpoint(first.store.saved.get(0)!.state).log, 'old-topic-id');

  const same = setup(first.store);
  same.consumer.logId = 'old-topic-id';
  await same.processor.start();
  assert.deepEqual(same.consumer.resume, new Map([[0, offset(2)]]));
  await same.processor.close();

  const recreated = setup(first.store);
  recreated.consumer.logId = 'new-topic-id';
  await assert.rejects(recreated.processor.start(), (error: unknown) => {
    assert.ok(error instanceof CheckpointError);
    assert.match(error.message, /^the checkpoint of partition 0 for test was saved on another log \(topic id old-topic-id, now new-topic-id\): the topic was deleted and created again, or kafka.topic names another topic now; start with a new --kafka-group-id/);
    return true;
  });
});

test('a checkpoint that cannot be read stops the start with one line naming the partition, the engine and how to start afresh', async () => {
  const first = setup();
  await first.processor.start();
  await first.consumer.handler!.records(0, [record(0), record(1)]);
  await first.processor.close();
  const saved = first.store.saved.get(0)!;
  first.store.saved.set(0, { ...saved, state: saved.state.replace(/"priceVolume":[^,}]+/, '"priceVolume":null') });
  for (const [more, fresh] of [
    [{}, 'start with a new --kafka-group-id to read the topic from its start'],
    [{ freshStart: 'start with another --data-dir than ./.tickstream' }, 'start with another --data-dir than ./.tickstream'],
  ] as const) {
    const next = setup(first.store, undefined, more);
    await assert.rejects(next.processor.start(), (error: unknown) => {
      assert.ok(error instanceof CheckpointError);
      assert.equal(error.message, `the checkpoint of partition 0 for test cannot be read (checkpoint windows[0].priceVolume must be a finite number, got null); ${fresh}`);
      return true;
    });
  }
});

test('a checkpoint from before log ids were saved is resumed, and saved with the id from then on', async () => {
  const first = setup();
  await first.processor.start();
  await first.consumer.handler!.records(0, [record(0), record(1)]);
  await first.processor.close();
  assert.equal(readCheckpoint(first.store.saved.get(0)!.state).log, undefined);

  const second = setup(first.store);
  second.consumer.logId = 'topic-id';
  await second.processor.start();
  assert.deepEqual(second.consumer.resume, new Map([[0, offset(2)]]));
  await second.consumer.handler!.records(0, [record(2)]);
  await second.processor.close();
  assert.equal(readCheckpoint(first.store.saved.get(0)!.state).log, 'topic-id');
});

test('late trades are set aside, counted and not stored as trades', async () => {
  const late: unknown[] = [];
  const store = new RecordingStore();
  const consumer = new RecordingConsumer();
  const stats = new PipelineStats();
  const p2 = new Processor({
    engineId: 'test',
    engine: { intervals: INTERVALS, lateness: durationMs(1_000) },
    store: store as unknown as Store,
    consumer,
    late: { append: async (e) => void late.push(...e), close: async () => {} },
    stats,
    flushIntervalMs: 60_000,
  });
  await p2.start();
  await consumer.handler!.records(0, [record(0, 0), record(1, 120_000), record(2, 1)]);
  await p2.close();
  assert.equal(stats.late, 1);
  assert.equal(late.length, 1);
  assert.deepEqual(store.writes.flatMap((w) => storedTradesOf(w).map((t) => t.seq)), [0, 1]);
});

test('a rebalance under way stores what was read, with its checkpoint and commit, before any partition is lost', async () => {
  const { store, consumer, processor } = setup();
  await processor.start();
  await consumer.handler!.records(0, [record(0), record(1), record(2)]);
  assert.equal(store.writes.length, 0, 'nothing is written before the flush interval');
  await consumer.handler!.rebalancing!();
  assert.equal(store.writes.length, 1);
  assert.equal(store.saved.get(0)?.offset, 3, 'the checkpoint another member would resume from is current');
  assert.deepEqual(consumer.commits, [new Map([[0, offset(3)]])]);
  await processor.close();
});

test('a partition the group gives another member while the store is down gets no bars, checkpoint or commit from the write held up; its trades still go', async () => {
  const lines: string[] = [];
  const logger = createLogger({ level: 'warn', write: (line) => void lines.push(line) });
  const { store, consumer, stats, processor } = setup(new RecordingStore(), undefined, { logger });
  await processor.start();
  await consumer.handler!.records(0, [record(0), record(1)]);
  const msft = [0, 1, 2].map((i): LogRecord => ({ ...record(i), partition: 1, trade: { ...record(i).trade, symbol: 'MSFT' } }));
  await consumer.handler!.records(1, msft);
  store.failNext = Number.MAX_SAFE_INTEGER;
  const flushed = processor.flush();
  const deadline = Date.now() + 5_000;
  while (stats.storeErrors < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  // The join completes while the write waits: partition 1 now belongs to another member.
  consumer.held = new Set([0]);
  store.failNext = 0;
  await flushed;
  assert.equal(store.writes.length, 1);
  const written = store.writes[0]!;
  assert.deepEqual(
    written.checkpoints.map((c) => c.partition),
    [0],
  );
  assert.deepEqual([...new Set(written.bars.map((b) => b.symbol))], ['AAPL'], 'no bar of the moved partition');
  assert.deepEqual(
    storedTradesOf(written).map((t) => `${t.trade.symbol}:${t.seq}`).sort(),
    ['AAPL:0', 'AAPL:1', 'MSFT:0', 'MSFT:1', 'MSFT:2'],
  );
  assert.deepEqual(consumer.commits, [new Map([[0, offset(2)]])]);
  assert.ok(
    lines.some((l) => l.includes('left to the new owner') && l.includes('partitions=1')),
    lines.join('\n'),
  );
  await processor.close();
});

test('close() saves no checkpoint and commits nothing for a partition that delivered no record', async () => {
  const { store, consumer, processor } = setup();
  await processor.start();
  // Partition 0 is assigned, with no checkpoint; its consumer started wherever the group had
  // committed, and nothing arrived before the stop.
  await processor.close();
  assert.deepEqual(store.writes, []);
  assert.deepEqual(consumer.commits, []);
  assert.equal(store.saved.size, 0, 'a checkpoint at offset 0 would send the next start to the start of the log');
});

test('close() writes what was read since the last flush, and nothing for partitions unchanged since then', async () => {
  const { store, consumer, processor } = setup();
  await processor.start();
  await consumer.handler!.records(0, [record(0), record(1)]);
  await processor.flush();
  await consumer.handler!.records(0, [record(2)]);
  await processor.close();
  assert.equal(store.writes.length, 2);
  assert.equal(store.saved.get(0)?.offset, 3);
  assert.deepEqual(consumer.commits, [new Map([[0, offset(2)]]), new Map([[0, offset(3)]])]);
  await processor.close();
  assert.equal(store.writes.length, 2, 'a second close writes nothing');
});

test('a stop that gives up on a store that stays down says so once: the timer flushes queued behind the failing one log nothing', { timeout: 20_000 }, async () => {
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', write: (line) => void lines.push(line) });
  const { store, consumer, stats, processor } = setup(new RecordingStore(), 300, { flushIntervalMs: 10, logger });
  await processor.start();
  store.failNext = Number.MAX_SAFE_INTEGER;
  await consumer.handler!.records(0, [record(0), record(1)]);
  const deadline = Date.now() + 10_000;
  while (stats.storeErrors < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.ok(stats.storeErrors >= 4, 'the timer flush kept retrying the store');
  await assert.rejects(processor.close(), StoreUnavailableError);
  await new Promise((r) => setImmediate(r));
  const errors = lines.filter((l) => / ERROR /.test(l));
  assert.deepEqual(
    errors.map((l) => l.replace(/^\S+ ERROR\s+\S+\s+/, '').replace(/ error=.*$/, '')),
    ['stopped without the final flush'],
    'one error line, from close()',
  );
});
