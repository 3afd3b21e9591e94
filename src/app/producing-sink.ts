import type { SideLog, TradeLogProducer } from '../bus/index.ts';
import type { Trade } from '../domain/index.ts';
import type { PipelineStats } from '../observability/index.ts';
import type { DeadLetter, TradeSink } from '../source/source.ts';
import type { AppendWindow } from './append-window.ts';

/**
 * Where a source's trades go in the produce role: appended to the log through the window, so
 * the source goes on while Kafka acknowledges, and counted as received, then as produced once
 * acknowledged. Only the count waits for the acknowledgement: the log has encoded the trades
 * by then, and holding them for the whole round trip carried them out of the young generation
 * (the produce role alone went from 534k-545k to 600k-625k trades/s without it).
 */
export function producingSink(stats: PipelineStats, producer: TradeLogProducer, deadLetters: SideLog<DeadLetter>, window: AppendWindow): TradeSink {
  return {
    trades: (trades: readonly Trade[]) => {
      const count = trades.length;
      stats.received += count;
      stats.receivedRate.mark(count, Date.now());
      const appended = producer.append(trades).then(() => {
        stats.produced += count;
      });
      return window.admit(appended, count);
    },
    invalid: (letters: readonly DeadLetter[]) => {
      stats.invalid += letters.length;
      return deadLetters.append(letters);
    },
  };
}
