// Which trades the tape shows, without the DOM, so the unit tests can check it in Node.
import type { TradeWire } from './api.ts';

/**
 * The tape's rows, oldest first: a symbol's history (newest first) and its live trades (oldest first) as one
 * list in seq order, each trade once, the newest `max` kept. The two overlap when a trade was stored before its
 * live frame arrived.
 */
export function joinTape(historyNewestFirst: readonly TradeWire[], liveOldestFirst: readonly TradeWire[], max: number): TradeWire[] {
  const bySeq = new Map<number, TradeWire>();
  for (const t of historyNewestFirst) bySeq.set(t.seq, t);
  for (const t of liveOldestFirst) bySeq.set(t.seq, t);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq).slice(-max);
}
