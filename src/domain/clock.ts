import type { EpochMs } from './units.ts';

/** Injected time, so that tests run in virtual time. */
export interface Clock {
  now(): EpochMs;
}

export const systemClock: Clock = { now: () => Date.now() as EpochMs };
