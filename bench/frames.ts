import { SimulatedMarket, type FinnhubTrade } from '../src/source/index.ts';
import { tradeFrame } from '../src/source/finnhub/finnhub-protocol.ts';

export const TRADES_PER_FRAME = 50;
export const INTERVALS = ['5s', '1m'];

/** The usual symbols first, then made-up ones up to n. */
export function benchSymbols(n: number): string[] {
  const known = ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'TSLA', 'BINANCE:BTCUSDT', 'BINANCE:ETHUSDT', 'OANDA:EUR_USD'];
  const out = known.slice(0, n);
  for (let i = out.length; i < n; i++) out.push(`SYM${String(i).padStart(3, '0')}`);
  return out;
}

/** Seeded frames of the simulated market, event time starting now. */
export function makeFrames(count: number, symbols: readonly string[], startTs: number, tradesPerFrame = TRADES_PER_FRAME): string[] {
  const market = new SimulatedMarket({ seed: 7, symbols, rate: 0, disorderMs: 250, startTs });
  const frames: string[] = [];
  let batch: FinnhubTrade[] = [];
  for (let i = 0; i < count; i++) {
    const t = market.next();
    if (t === undefined) break;
    batch.push(t);
    if (batch.length === tradesPerFrame) {
      frames.push(tradeFrame(batch));
      batch = [];
    }
  }
  if (batch.length > 0) frames.push(tradeFrame(batch));
  return frames;
}
