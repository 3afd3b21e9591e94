import { CheckpointError } from '../errors.ts';
import type { WindowAggregate } from './bar-aggregator.ts';
import { newPartitionState, type PartitionState, type SymbolWindows } from './partition-state.ts';

/**
 * The checkpoint format, version 1. Doubles survive JSON exactly (shortest round-trip
 * form), so a restored state continues bit-identically. `changed` is kept so that a
 * bar changed before the checkpoint is still emitted by the next flush.
 */
interface CheckpointV1 {
  v: 1;
  /** The log the offsets belong to (Kafka's topic id); absent for the in-process log and in older checkpoints. */
  log?: string;
  /** null before the first accepted trade. */
  maxTs: number | null;
  windows: WindowV1[];
}

interface WindowV1 {
  symbol: string;
  interval: string;
  windowStart: number;
  windowEnd: number;
  open: number;
  openTs: number;
  openOffset: number;
  close: number;
  closeTs: number;
  closeOffset: number;
  high: number;
  low: number;
  volume: number;
  priceVolume: number;
  priceSum: number;
  tradeCount: number;
  changed: boolean;
}

/** A partition's state as a checkpoint; `log` names the log its offsets belong to (see `readCheckpoint`). */
export function serializePartitionState(state: PartitionState, log?: string): string {
  const windows: WindowV1[] = [];
  for (const bySymbol of state.windows.values()) {
    for (const byStart of bySymbol.values()) {
      for (const w of byStart.values()) {
        windows.push({
          symbol: w.symbol,
          interval: w.interval,
          windowStart: w.windowStart,
          windowEnd: w.windowEnd,
          open: w.open,
          openTs: w.openTs,
          openOffset: w.openOffset,
          close: w.close,
          closeTs: w.closeTs,
          closeOffset: w.closeOffset,
          high: w.high,
          low: w.low,
          volume: w.volume,
          priceVolume: w.priceVolume,
          priceSum: w.priceSum,
          tradeCount: w.tradeCount,
          changed: w.changed,
        });
      }
    }
  }
  const maxTs = state.maxTs === -Infinity ? null : state.maxTs;
  const checkpoint: CheckpointV1 = log === undefined ? { v: 1, maxTs, windows } : { v: 1, log, maxTs, windows };
  return JSON.stringify(checkpoint);
}

/** Rebuilds a partition state; throws CheckpointError naming the first thing that is wrong. */
export function deserializePartitionState(text: string): PartitionState {
  return readCheckpoint(text).state;
}

/** A checkpoint's partition state and the log its offsets belong to, when it says. */
export function readCheckpoint(text: string): { state: PartitionState; log: string | undefined } {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (error) {
    throw new CheckpointError(`checkpoint is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (!isRecord(root)) throw invalid('checkpoint', root, 'an object');
  if (root['v'] !== 1) throw invalid('checkpoint v (version)', root['v'], '1');
  const maxTs = root['maxTs'];
  if (maxTs !== null && !Number.isSafeInteger(maxTs)) throw invalid('checkpoint maxTs', maxTs, 'null or epoch milliseconds');
  const log = root['log'];
  if (log !== undefined && (typeof log !== 'string' || log.length === 0)) throw invalid('checkpoint log', log, 'absent or a non-empty string');
  const windows = root['windows'];
  if (!Array.isArray(windows)) throw invalid('checkpoint windows', windows, 'an array');
  if (maxTs === null && windows.length > 0) {
    throw new CheckpointError(`checkpoint has ${windows.length} windows but no maxTs: a window exists only after a trade`);
  }

  const state = newPartitionState();
  state.maxTs = maxTs === null ? -Infinity : (maxTs as number);
  for (let i = 0; i < windows.length; i++) {
    const w = readWindow(windows[i], `checkpoint windows[${i}]`);
    if (w.closeTs > state.maxTs) {
      throw new CheckpointError(`checkpoint windows[${i}] has a trade at ${w.closeTs}, after maxTs ${state.maxTs}`);
    }
    let bySymbol = state.windows.get(w.interval);
    if (bySymbol === undefined) {
      bySymbol = new Map();
      state.windows.set(w.interval, bySymbol);
    }
    let byStart: SymbolWindows | undefined = bySymbol.get(w.symbol);
    if (byStart === undefined) {
      byStart = new Map();
      bySymbol.set(w.symbol, byStart);
    }
    if (byStart.has(w.windowStart)) {
      throw new CheckpointError(
        `checkpoint windows[${i}] repeats the window (${w.symbol}, ${w.interval}, ${w.windowStart})`,
      );
    }
    byStart.set(w.windowStart, w);
  }
  return { state, log };
}

function readWindow(value: unknown, at: string): WindowAggregate {
  if (!isRecord(value)) throw invalid(at, value, 'an object');
  const symbol = value['symbol'];
  const interval = value['interval'];
  if (typeof symbol !== 'string' || symbol.length === 0) throw invalid(`${at}.symbol`, symbol, 'a non-empty string');
  if (typeof interval !== 'string' || interval.length === 0) throw invalid(`${at}.interval`, interval, 'a non-empty string');
  const windowStart = integer(value, 'windowStart', at, 0);
  const windowEnd = integer(value, 'windowEnd', at, windowStart + 1);
  const openTs = integer(value, 'openTs', at, windowStart);
  const closeTs = integer(value, 'closeTs', at, openTs);
  if (closeTs >= windowEnd) throw invalid(`${at}.closeTs`, closeTs, `a time before windowEnd ${windowEnd}`);
  const tradeCount = integer(value, 'tradeCount', at, 1);
  const changed = value['changed'];
  if (typeof changed !== 'boolean') throw invalid(`${at}.changed`, changed, 'true or false');
  const high = finite(value, 'high', at);
  const low = finite(value, 'low', at);
  if (low > high) throw new CheckpointError(`${at} has low ${low} above high ${high}`);
  return {
    symbol,
    interval,
    windowStart,
    windowEnd,
    open: finite(value, 'open', at),
    openTs,
    openOffset: integer(value, 'openOffset', at, 0),
    close: finite(value, 'close', at),
    closeTs,
    closeOffset: integer(value, 'closeOffset', at, 0),
    high,
    low,
    volume: finite(value, 'volume', at),
    priceVolume: finite(value, 'priceVolume', at),
    priceSum: finite(value, 'priceSum', at),
    tradeCount,
    changed,
  };
}

function integer(record: Record<string, unknown>, key: string, at: string, min: number): number {
  const value = record[key];
  if (!Number.isSafeInteger(value) || (value as number) < min) {
    throw invalid(`${at}.${key}`, value, `an integer >= ${min}`);
  }
  return value as number;
}

function finite(record: Record<string, unknown>, key: string, at: string): number {
  const value = record[key];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(`${at}.${key}`, value, 'a finite number');
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(what: string, value: unknown, allowed: string): CheckpointError {
  const shown = value === undefined ? 'nothing' : (JSON.stringify(value) ?? String(value));
  const clipped = shown.length > 60 ? `${shown.slice(0, 57)}...` : shown;
  return new CheckpointError(`${what} must be ${allowed}, got ${clipped}`);
}
