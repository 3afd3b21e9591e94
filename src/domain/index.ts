export * from './units.ts';
export * from './trade.ts';
export * from './bar.ts';
export * from './interval.ts';
export * from './partition.ts';
export * from './clock.ts';
