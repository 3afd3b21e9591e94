export { createHttpServer, type HttpServer, type HttpServerOptions, type LiveFeed } from './http-server.ts';
export { rollupBars, rollupPlans, ROLLUP_TARGETS, type RollupPlan } from './rollup.ts';
export { readRollup, ROLLUP_CHUNK, Turns, type RollupQuery } from './rollup-read.ts';
export type { SymbolSummary } from './symbol-board.ts';
export type { TradeJson } from './trade-json.ts';
export { createMetrics, type MetricsSources, type SparkQueryProgressSample } from './metrics.ts';
export { createMetricsServer, type MetricsServer, type MetricsServerOptions } from './metrics-server.ts';
