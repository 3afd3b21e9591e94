// The HTTP API's JSON shapes that the dashboard (web/) reads too. Types only, with no imports,
// so the browser build can share them without pulling in server code.

/** One row of GET /api/symbols. */
export interface SymbolSummary {
  symbol: string;
  last_price: number | null;
  last_ts: number | null;
  session_open: number | null;
  change_pct: number | null;
  trades_per_s: number;
  /** Up to 60 recent closes of the smallest engine interval, oldest first. */
  sparkline: number[];
}

/** A trade as GET /api/trades and the `trades` stream event send it (snake_case, with its log offset). */
export interface TradeJson {
  symbol: string;
  price: number;
  volume: number;
  ts: number;
  conditions: readonly string[];
  source: string;
  ingest_ts: number;
  seq: number;
}
