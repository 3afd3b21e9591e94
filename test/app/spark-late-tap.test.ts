import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { LateEntry } from '../../src/app/processor.ts';
import { executedBatches, offsetRanges, SparkLateTap, type OffsetRange, type RangeRecord } from '../../src/app/spark-late-tap.ts';
import type { TradeRecord } from '../../src/domain/index.ts';
import { CheckpointError } from '../../src/errors.ts';
import { PipelineStats } from '../../src/observability/index.ts';
import { parseProgress, type StreamingQueryProgress } from '../../src/spark/index.ts';

const TOPIC = 'market.trades';
const SIZE = 5_000;
/** 2026-01-05T09:30:00Z, a multiple of 5 s. */
const T0 = 1_767_605_400_000;

interface BatchSpec {
  readonly batchId: number;
  readonly watermark?: number;
  readonly dropped?: number;
  /** Offsets read per partition: [from, to). */
  readonly ranges?: Readonly<Record<number, readonly [number, number]>>;
  /** An idle trigger's progress: no addBatch phase. */
  readonly idle?: boolean;
}

function progress(b: BatchSpec): StreamingQueryProgress {
  const start: Record<string, number> = {};
  const end: Record<string, number> = {};
  for (const [p, [from, to]] of Object.entries(b.ranges ?? {})) {
    start[p] = from;
    end[p] = to;
  }
  return parseProgress(JSON.stringify({
    id: 'q', runId: 'r', name: 'tickstream-bars-5s', batchId: b.batchId, numInputRows: 0,
    durationMs: b.idle === true ? { triggerExecution: 1 } : { addBatch: 10, triggerExecution: 12 },
    eventTime: b.watermark === undefined ? {} : { watermark: new Date(b.watermark).toISOString() },
    stateOperators: [{ numRowsDroppedByWatermark: b.dropped ?? 0 }],
    sources: [{ description: 'KafkaV2', startOffset: { [TOPIC]: start }, endOffset: { [TOPIC]: end } }],
  }));
}

function trade(symbol: string, ts: number): TradeRecord {
  return { symbol, price: 100, volume: 1, ts, conditions: [], source: 'replay', ingest_ts: ts };
}

/** A topic in memory: per partition, the trades at offsets 0, 1, … */
class FakeTopic {
  readonly reads: OffsetRange[] = [];
  failing = false;
  /** Reads of this partition fail. */
  failingPartition: number | undefined;
  constructor(readonly partitions: Readonly<Record<number, readonly (TradeRecord | undefined)[]>>) {}

  async *read(range: OffsetRange): AsyncGenerator<RangeRecord[]> {
    this.reads.push(range);
    if (this.failing || range.partition === this.failingPartition) throw new Error('broker away');
    const all = this.partitions[range.partition] ?? [];
    // Two chunks, as fetches bring them.
    const mid = Math.floor((range.from + range.to) / 2);
    for (const [a, b] of [[range.from, mid], [mid, range.to]] as const) {
      const chunk: RangeRecord[] = [];
      for (let o = a; o < b && o < all.length; o++) chunk.push({ partition: range.partition, offset: o, trade: all[o] });
      if (chunk.length > 0) yield chunk;
    }
  }
}

class MemorySideLog {
  readonly entries: LateEntry[] = [];
  async append(entries: readonly LateEntry[]): Promise<void> {
    this.entries.push(...entries);
  }
  async close(): Promise<void> {}
}

function stateFile(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-late-tap-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'spark', 'late-replay.json');
}

function tapOn(topic: FakeTopic, file: string, late = new MemorySideLog(), stats = new PipelineStats()) {
  const tap = new SparkLateTap({ intervalMs: SIZE, read: (r) => topic.read(r), late, stateFile: file, stats });
  return { tap, late, stats };
}

// Batch 1's watermark is T0 + 10 s. Batch 2 reads offsets 2..6 of partition 0 and 0..2 of
// partition 1; its own watermark (T0 + 30 s) is higher, but Spark judges it by batch 1's.
const W1 = T0 + 10_000;
const topic = () => new FakeTopic({
  0: [
    trade('A', T0 + 20_000), trade('A', T0 + 21_000), // batch 1
    trade('A', T0 + 1_000), // window [T0, T0+5s) ends before W1: late
    trade('A', T0 + 4_999), // same symbol and window: late, one drop for Spark
    trade('A', T0 + 5_000), // window [T0+5s, T0+10s) ends at W1 exactly: late
    trade('A', T0 + 10_000), // window ends after W1: on time, though late by batch 2's own watermark
    undefined, // a record that does not decode: Spark reads no trade from it either
  ],
  1: [trade('B', T0 + 2_000), trade('B', T0 + 22_000)],
});
const batches = [
  progress({ batchId: 1, watermark: W1, ranges: { 0: [0, 2] } }),
  progress({ batchId: 2, watermark: T0 + 30_000, dropped: 3, ranges: { 0: [2, 7], 1: [0, 2] } }),
];

test('the late tap writes the trades of a batch whose windows end at or before the previous batch\'s watermark', async (t) => {
  const fake = topic();
  const { tap, late, stats } = tapOn(fake, stateFile(t));
  await tap.observe('q', batches);
  assert.deepEqual(late.entries.map((e) => [e.partition, e.offset, e.symbol, e.ts]), [
    [0, 2, 'A', T0 + 1_000],
    [0, 3, 'A', T0 + 4_999],
    [0, 4, 'A', T0 + 5_000],
    [1, 0, 'B', T0 + 2_000],
  ]);
  assert.ok(late.entries.every((e) => e.watermark === W1), 'each entry carries the watermark it was late by');
  assert.equal(stats.late, 4, 'every late trade counts, two in one window included');
  // Spark dropped (A, T0), (A, T0+5s), (B, T0): three windows. The tap agrees.
  assert.equal(tap.mismatches, 0);
  assert.deepEqual(fake.reads.map((r) => [r.partition, r.from, r.to]), [[0, 2, 7], [1, 0, 2]], 'only the batch with drops is read');
});

test('the late tap counts a disagreement with Spark\'s drop count', async (t) => {
  const { tap } = tapOn(topic(), stateFile(t));
  await tap.observe('q', [batches[0] as StreamingQueryProgress, progress({ batchId: 2, watermark: T0 + 30_000, dropped: 5, ranges: { 0: [2, 7], 1: [0, 2] } })]);
  assert.equal(tap.mismatches, 1);
});

test('the late tap replays each batch once, across restarts, with the watermark it saved', async (t) => {
  const file = stateFile(t);
  const fake = topic();
  const first = tapOn(fake, file);
  // Only batch 1 is seen before the restart.
  await first.tap.observe('q', [batches[0] as StreamingQueryProgress]);
  assert.equal(first.late.entries.length, 0);
  // After the restart the recent progress holds batch 2 only (batch 1 came from an earlier run).
  const second = tapOn(fake, file);
  await second.tap.observe('q', [batches[1] as StreamingQueryProgress]);
  assert.equal(second.late.entries.length, 4, 'batch 1\'s saved watermark judges batch 2');
  assert.equal(second.tap.unreplayed, 0);
  const third = tapOn(fake, file);
  await third.tap.observe('q', batches);
  assert.equal(third.late.entries.length, 0, 'a batch already replayed is not replayed again');
  assert.equal(fake.reads.length, 2);
});

test('a batch with drops whose previous watermark was never seen is counted by Spark\'s figure and not replayed', async (t) => {
  const fake = topic();
  const { tap, late, stats } = tapOn(fake, stateFile(t));
  await tap.observe('q', [batches[1] as StreamingQueryProgress]);
  assert.equal(late.entries.length, 0);
  assert.equal(tap.unreplayed, 1);
  assert.equal(stats.late, 3);
  assert.equal(fake.reads.length, 0);
});

test('an idle trigger\'s progress is no batch: its watermark judges nothing', async (t) => {
  const fake = topic();
  const { tap, late } = tapOn(fake, stateFile(t));
  // An idle report numbered 1 with a high watermark, then the real batch 1, in either order.
  const idle = progress({ batchId: 1, watermark: T0 + 60_000, idle: true });
  await tap.observe('q', [batches[0] as StreamingQueryProgress, idle, batches[1] as StreamingQueryProgress]);
  assert.equal(late.entries.length, 4);
  assert.deepEqual(executedBatches([idle]), []);
});

test('a failed read keeps the batch for the next look', async (t) => {
  const fake = topic();
  const { tap, late } = tapOn(fake, stateFile(t));
  fake.failing = true;
  await assert.rejects(tap.observe('q', batches), /broker away/);
  fake.failing = false;
  await tap.observe('q', batches);
  assert.equal(late.entries.length, 4);
});

test('offsetRanges reads the sources\' offsets as objects or JSON strings and skips empty ranges', () => {
  const p = parseProgress(JSON.stringify({
    id: 'q', runId: 'r', batchId: 3,
    sources: [{ startOffset: JSON.stringify({ t: { 0: 5, 1: 9 } }), endOffset: JSON.stringify({ t: { 0: 8, 1: 9, 2: 4 } }) }],
  }));
  assert.deepEqual(offsetRanges(p), [
    { topic: 't', partition: 0, from: 5, to: 8 },
    { topic: 't', partition: 2, from: 0, to: 4 },
  ]);
});

test('a replay state file that is not JSON is an error naming the file', (t) => {
  const file = stateFile(t);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, '{not json');
  assert.throws(() => tapOn(topic(), file), (error: unknown) => error instanceof CheckpointError && error.message.includes(file));
});

test('batches that ran unseen are counted and logged, and the ones after them still replayed', async (t) => {
  const file = stateFile(t);
  const fake = topic();
  await tapOn(fake, file).tap.observe('q', [progress({ batchId: 0, watermark: 0 })]);
  // Batches 1 to 3 ran while no one looked and fell out of the recent progress.
  const later = tapOn(fake, file);
  await later.tap.observe('q', [progress({ batchId: 4, watermark: W1 }), progress({ batchId: 5, watermark: T0 + 30_000, dropped: 3, ranges: { 0: [2, 7], 1: [0, 2] } })]);
  assert.equal(later.tap.unseen, 3);
  assert.equal(later.late.entries.length, 4);
});

test('late trades written in a look stay written when a later batch of the same look fails: a restart does not write them again', async (t) => {
  const file = stateFile(t);
  const fake = topic();
  const look = [
    batches[0] as StreamingQueryProgress,
    progress({ batchId: 2, watermark: T0 + 30_000, dropped: 2, ranges: { 0: [2, 7] } }),
    progress({ batchId: 3, watermark: T0 + 30_000, dropped: 2, ranges: { 1: [0, 2] } }),
  ];
  const first = tapOn(fake, file);
  fake.failingPartition = 1;
  await assert.rejects(first.tap.observe('q', look), /broker away/);
  assert.equal(first.late.entries.length, 3, 'batch 2 replayed before batch 3 failed');
  fake.failingPartition = undefined;
  const again = tapOn(fake, file);
  await again.tap.observe('q', look);
  assert.deepEqual(again.late.entries.map((e) => [e.partition, e.offset]), [[1, 0], [1, 1]], 'only batch 3\'s after the restart');
});
