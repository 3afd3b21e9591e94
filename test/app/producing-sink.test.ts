import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { AppendWindow } from '../../src/app/append-window.ts';
import { producingSink } from '../../src/app/producing-sink.ts';
import type { SideLog, TradeLogProducer } from '../../src/bus/index.ts';
import type { Trade } from '../../src/domain/index.ts';
import { PipelineStats } from '../../src/observability/index.ts';
import type { DeadLetter, TradeSink } from '../../src/source/source.ts';
import { aaplTrades } from '../support/trades.ts';

setFlagsFromString('--expose-gc');
/** A full collection, from a context made after the flag. */
const collectGarbage = runInNewContext('gc') as () => void;

/** A log whose appends wait until acknowledge() is called. */
function waitingLog(): TradeLogProducer & { acknowledge(): void } {
  const waiting: (() => void)[] = [];
  return {
    append: () => new Promise<void>((resolve) => waiting.push(resolve)),
    close: async () => {},
    acknowledge: () => {
      for (const resolve of waiting.splice(0)) resolve();
    },
  } as unknown as TradeLogProducer & { acknowledge(): void };
}

/** Hands the trades to the sink and keeps only a weak reference to them. */
async function handOver(sink: TradeSink, handed: Trade[]): Promise<WeakRef<Trade[]>> {
  await sink.trades(handed);
  return new WeakRef(handed);
}

const noDeadLetters: SideLog<DeadLetter> = { append: async () => {}, close: async () => {} };

test('trades are counted as received at once and as produced when the log acknowledges them', async () => {
  const stats = new PipelineStats();
  const log = waitingLog();
  const window = new AppendWindow(1_000);
  const sink = producingSink(stats, log, noDeadLetters, window);
  await sink.trades(aaplTrades(30));
  assert.equal(stats.received, 30);
  assert.equal(stats.produced, 0);
  assert.equal(window.pending, 30);
  log.acknowledge();
  await window.drain();
  assert.equal(stats.produced, 30);
});

test('trades waiting for the acknowledgement are not held: only their count is', async () => {
  const stats = new PipelineStats();
  const log = waitingLog();
  const sink = producingSink(stats, log, noDeadLetters, new AppendWindow(1_000));
  const ref = await handOver(sink, aaplTrades(100));
  // Collections run until the array is gone or clearly held.
  for (let i = 0; i < 5 && ref.deref() !== undefined; i++) {
    await new Promise((r) => setImmediate(r));
    collectGarbage();
  }
  assert.equal(ref.deref(), undefined, 'the trades outlived their append while Kafka had not acknowledged them');
  log.acknowledge();
  await new Promise((r) => setImmediate(r));
  assert.equal(stats.produced, 100);
});
