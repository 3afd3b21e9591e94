// The Cassandra store alone: the trades and bars of an input written straight into
// CassandraStore, in the batches the TS engine would write at 100,000 trades/s, with nothing
// upstream, so its rate can be set beside the engines' to see whether the store bounds them.
import type { Config } from '../src/config/index.ts';
import type { CpuMeter, CpuUse } from './cpu.ts';
import type { Bar, Offset, Trade } from '../src/domain/index.ts';
import { applyTrade, flushPartition, newPartitionState, serializePartitionState, type EngineOptions, type PartitionState } from '../src/engine/index.ts';
import { silentLogger } from '../src/observability/index.ts';
import { openCassandraStore, tradeCountOf, type Checkpoint, type FlushBatch, type StoredTrade } from '../src/store/index.ts';
import { quantile } from './bar-watch.ts';

/** The rate the store is asked to keep up with (issue 5). */
export const STORE_TARGET_TRADES_PER_S = 100_000;
/** The Processor's default maxPendingTrades: a flush never holds more. */
const MAX_PENDING_TRADES = 50_000;

export interface StoreAloneResult {
  readonly trades: number;
  readonly bars: number;
  readonly batches: number;
  readonly tradesPerBatch: number;
  readonly seconds: number;
  readonly tradesPerS: number;
  readonly barsPerS: number;
  /** One store.write of a batch (trades, changed bars, checkpoints). */
  readonly writeP50Ms: number;
  readonly writeP99Ms: number;
  readonly writeMaxMs: number;
  /** Over the writes only, not the migration before them nor the check after. */
  readonly cpu: CpuUse;
}

/**
 * The flush batches of the TS engine over the trades, computed up front: trades go to
 * partitions by symbol, each flush holds `tradesPerBatch` trades, the bars they changed and a
 * checkpoint per partition touched (with its serialised window state), as Processor writes them.
 */
export function flushBatches(trades: readonly Trade[], symbols: readonly string[], partitions: number, engine: EngineOptions, tradesPerBatch: number): FlushBatch[] {
  const partitionOf = new Map(symbols.map((s, i) => [s, i % partitions]));
  const states = new Map<number, { state: PartitionState; next: number; touched: boolean }>();
  const batches: FlushBatch[] = [];
  let pending: StoredTrade[] = [];
  const flush = (): void => {
    const bars: Bar[] = [];
    const checkpoints: Checkpoint[] = [];
    for (const [partition, slot] of states) {
      if (!slot.touched) continue;
      bars.push(...flushPartition(slot.state, engine).bars);
      checkpoints.push({ engineId: 'bench-store-alone', partition, offset: slot.next as Offset, state: serializePartitionState(slot.state) });
      slot.touched = false;
    }
    batches.push({ trades: pending, bars, checkpoints });
    pending = [];
  };
  for (const trade of trades) {
    const partition = partitionOf.get(trade.symbol) ?? 0;
    let slot = states.get(partition);
    if (slot === undefined) states.set(partition, (slot = { state: newPartitionState(), next: 0, touched: false }));
    const offset = slot.next as Offset;
    slot.next++;
    slot.touched = true;
    if (applyTrade(slot.state, trade, offset, engine) === 'accepted') pending.push({ trade, seq: offset });
    if (pending.length >= tradesPerBatch) flush();
  }
  if (pending.length > 0) flush();
  return batches;
}

/** Trades per batch: what one flush interval holds at the target rate, capped as the Processor caps it. */
export function storeAloneBatchSize(flushIntervalMs: number): number {
  return Math.max(1, Math.min(MAX_PENDING_TRADES, Math.ceil((STORE_TARGET_TRADES_PER_S * flushIntervalMs) / 1000)));
}

/**
 * Migrates the config's keyspace, then writes the batches one after the other (the Processor
 * has one write in flight) and times them, measuring CPU over the writes with a meter from
 * `cpuMeter`; `check` must confirm afterwards that every trade is counted in the stored bars.
 */
export async function storeAlone(config: Config, batches: readonly FlushBatch[], cpuMeter: () => CpuMeter, check: () => Promise<void>): Promise<StoreAloneResult> {
  const { contactPoints, localDataCenter, keyspace, concurrency } = config.cassandra;
  const store = openCassandraStore({ contactPoints, localDataCenter, keyspace, concurrency, logger: silentLogger });
  const writes: number[] = [];
  let seconds: number;
  let cpu: CpuUse;
  try {
    await store.migrate();
    const meter = cpuMeter();
    const t0 = performance.now();
    for (const batch of batches) {
      const w0 = performance.now();
      await store.write(batch);
      writes.push(performance.now() - w0);
    }
    seconds = (performance.now() - t0) / 1000;
    cpu = meter.stop();
  } finally {
    await store.close();
  }
  await check();
  const trades = batches.reduce((n, b) => n + tradeCountOf(b), 0);
  const bars = batches.reduce((n, b) => n + b.bars.length, 0);
  return {
    trades,
    bars,
    batches: batches.length,
    tradesPerBatch: batches[0] === undefined ? 0 : tradeCountOf(batches[0]),
    seconds,
    tradesPerS: trades / seconds,
    barsPerS: bars / seconds,
    writeP50Ms: quantile(writes, 0.5),
    writeP99Ms: quantile(writes, 0.99),
    writeMaxMs: quantile(writes, 1),
    cpu,
  };
}
