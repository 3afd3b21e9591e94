export * from './latency-histogram.ts';
export * from './rate-meter.ts';
export * from './logger.ts';
export * from './pipeline-stats.ts';
export * from './duration.ts';
export * from './some-named.ts';
export * from './outage-log.ts';
export * from './counted.ts';
