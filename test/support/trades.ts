import { epochMs, price, volume, type Trade } from '../../src/domain/index.ts';

/** `n` valid AAPL trades one millisecond apart, prices rising by one: for tests where what they hold does not matter. */
export function aaplTrades(n: number): Trade[] {
  return Array.from({ length: n }, (_, i) => ({
    symbol: 'AAPL',
    price: price(100 + i),
    volume: volume(1),
    ts: epochMs(1_700_000_000_000 + i),
    conditions: ['1'],
    source: 'simulator' as const,
    ingestTs: epochMs(1_700_000_000_000 + i),
  }));
}
