import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff } from '../../../src/source/index.ts';

test('the delay ceiling doubles from the initial delay and is capped at the maximum', () => {
  const backoff = new Backoff({ initialMs: 250, maxMs: 30_000, random: () => 0.999_999 });
  const delays = Array.from({ length: 12 }, () => backoff.next());
  assert.deepEqual(delays.slice(0, 8), [249, 499, 999, 1999, 3999, 7999, 15_999, 29_999]);
  assert.ok(delays.slice(7).every((d) => d === 29_999), `capped: ${delays.join(',')}`);
});

test('full jitter: each delay is the random fraction of its ceiling', () => {
  const draws = [0, 0.5, 0.25, 0.999, 0.1];
  let i = 0;
  const backoff = new Backoff({ initialMs: 100, maxMs: 1_000, random: () => draws[i++ % draws.length]! });
  assert.deepEqual(Array.from({ length: 5 }, () => backoff.next()), [0, 100, 100, 799, 100]);
});

test('reset starts over from the initial delay', () => {
  const backoff = new Backoff({ initialMs: 100, maxMs: 10_000, random: () => 0.5 });
  for (let i = 0; i < 6; i++) backoff.next();
  assert.equal(backoff.attempt, 6);
  backoff.reset();
  assert.equal(backoff.attempt, 0);
  assert.equal(backoff.next(), 50);
});

test('a huge attempt count neither overflows nor exceeds the cap', () => {
  const backoff = new Backoff({ initialMs: 250, maxMs: 30_000, random: () => 0.999_999 });
  for (let i = 0; i < 5_000; i++) assert.ok(backoff.next() < 30_000);
  assert.equal(backoff.ceilingMs(), 30_000);
});
