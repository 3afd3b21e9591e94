import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { epochMs, durationMs, durationLabel, parseDuration, parseInterval, smallestInterval, windowStartOf } from '../../src/domain/index.ts';

test('durations parse in every unit and reject anything else', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('5s'), 5_000);
  assert.equal(parseDuration('1m'), 60_000);
  assert.equal(parseDuration('2h'), 7_200_000);
  assert.equal(parseDuration('1d'), 86_400_000);
  for (const bad of ['', '5', 's', '-5s', '1.5s', '5 minutes', '5S']) assert.equal(parseDuration(bad), undefined, bad);
});

test('interval labels are normalised to the shortest form', () => {
  assert.equal(parseInterval('60s')?.label, '1m');
  assert.equal(parseInterval('1500ms')?.label, '1500ms');
  assert.equal(parseInterval('0s'), undefined);
  assert.equal(durationLabel(3_600_000), '1h');
});

test('window start is floor(ts / size) * size and contains ts', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.integer({ min: 1, max: 86_400_000 }), (ts, size) => {
      const start = windowStartOf(epochMs(ts), durationMs(size));
      assert.equal(start % size, 0);
      assert.ok(start <= ts && ts < start + size);
    }),
  );
});

test('smallestInterval is the shortest of the intervals, in any order, and undefined for none', () => {
  const [m1, s5, h1] = [parseInterval('1m'), parseInterval('5s'), parseInterval('1h')];
  assert.equal(smallestInterval([m1!, s5!, h1!])?.label, '5s');
  assert.equal(smallestInterval([h1!, m1!])?.label, '1m');
  assert.equal(smallestInterval([]), undefined);
});
