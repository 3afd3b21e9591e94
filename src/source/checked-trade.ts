import { tradeViolation, type EpochMs, type Price, type Trade, type TradeSource as TradeSourceName, type Volume } from '../domain/index.ts';

/** A Trade, or why the input is not one. */
export type CheckedTrade = { readonly trade: Trade; readonly reason?: undefined } | { readonly trade?: undefined; readonly reason: string };

/** Fields that already passed a schema check: the types are right, the domain rules are not checked yet. */
export interface TradeFields {
  readonly symbol: string;
  readonly price: number;
  readonly volume: number;
  readonly ts: number;
  readonly conditions?: readonly string[] | null | undefined;
}

/** Applies the Trade contract (finite positive price, ...) and builds the domain Trade; `what` prefixes the reason. */
export function checkedTrade(what: string, f: TradeFields, source: TradeSourceName, ingestTs: EpochMs): CheckedTrade {
  const violation = tradeViolation(f);
  if (violation !== undefined) return { reason: `${what}: ${violation}` };
  return {
    trade: {
      symbol: f.symbol,
      price: f.price as Price,
      volume: f.volume as Volume,
      ts: f.ts as EpochMs,
      conditions: f.conditions ?? [],
      source,
      ingestTs,
    },
  };
}
