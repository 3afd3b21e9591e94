import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { murmur2, partitionOf } from '../../src/domain/index.ts';

test('murmur2 matches the values of Kafka’s default partitioner', () => {
  // Reference values from Kafka's own test suite for Utils.murmur2.
  const cases: [string, number][] = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ];
  for (const [text, expected] of cases) assert.equal(murmur2(Buffer.from(text)), expected, text);
});

test('a symbol always lands in the same partition, within range', () => {
  fc.assert(
    fc.property(fc.string({ minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 64 }), (symbol, n) => {
      const p = partitionOf(symbol, n);
      assert.ok(Number.isInteger(p) && p >= 0 && p < n);
      assert.equal(partitionOf(symbol, n), p);
    }),
  );
});
