import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BAR_TTLS, barTtlSeconds } from '../../../src/store/cassandra/bar-ttl.ts';

const DAY = 86_400;

test('bars under a minute live 7 days, under an hour 90 days, hourly and larger forever', () => {
  assert.equal(barTtlSeconds('5s'), 7 * DAY);
  assert.equal(barTtlSeconds('30s'), 7 * DAY);
  assert.equal(barTtlSeconds('500ms'), 7 * DAY);
  assert.equal(barTtlSeconds('1m'), 90 * DAY);
  assert.equal(barTtlSeconds('60s'), 90 * DAY);
  assert.equal(barTtlSeconds('15m'), 90 * DAY);
  assert.equal(barTtlSeconds('1h'), 0);
  assert.equal(barTtlSeconds('60m'), 0);
  assert.equal(barTtlSeconds('1d'), 0);
});

test('a label that is not an interval gets no TTL rather than an error', () => {
  assert.equal(barTtlSeconds('weekly'), 0);
  assert.equal(barTtlSeconds('0s'), 0);
});

test('TTL tiers are ordered by size and shrink as bars get finer', () => {
  for (let i = 1; i < BAR_TTLS.length; i++) {
    assert.ok(BAR_TTLS[i]!.belowMs > BAR_TTLS[i - 1]!.belowMs);
    assert.ok(BAR_TTLS[i]!.ttlSeconds > BAR_TTLS[i - 1]!.ttlSeconds);
  }
  // Cassandra rejects a TTL above 20 years.
  for (const tier of BAR_TTLS) assert.ok(tier.ttlSeconds > 0 && tier.ttlSeconds <= 20 * 365 * DAY);
});
