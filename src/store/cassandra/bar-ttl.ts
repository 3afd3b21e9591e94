import { parseInterval } from '../../domain/index.ts';

const DAY_S = 86_400;

/**
 * How long a bar row lives, by interval size. The bars table holds every interval, so a
 * table-wide default_time_to_live cannot fit; each insert says `USING TTL` from here.
 * Fine bars are many and short-lived; hourly and larger bars are few and kept.
 * This is the one place the TTLs are set; store/README.md shows the same table.
 */
export const BAR_TTLS: readonly { readonly belowMs: number; readonly ttlSeconds: number; readonly label: string }[] = [
  { belowMs: 60_000, ttlSeconds: 7 * DAY_S, label: 'under 1m (5s, 10s, 30s)' },
  { belowMs: 3_600_000, ttlSeconds: 90 * DAY_S, label: '1m to under 1h (1m, 5m, 15m)' },
];

/** The TTL in seconds for bars of an interval; 0 (no TTL) for 1h and larger, or a label that is not an interval. */
export function barTtlSeconds(interval: string): number {
  const parsed = parseInterval(interval);
  if (parsed === undefined) return 0;
  for (const tier of BAR_TTLS) if (parsed.ms < tier.belowMs) return tier.ttlSeconds;
  return 0;
}
