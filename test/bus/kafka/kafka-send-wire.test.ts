import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { packRecords, unpackRecords } from '../../../src/bus/kafka/kafka-send-wire.ts';
import type { SpooledRecord } from '../../../src/bus/kafka/trade-spool.ts';

const keys = fc.array(fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)), { minLength: 1, maxLength: 8 });

test('a packed batch unpacks to the same records in the same order, shared keys included', () => {
  fc.assert(
    fc.property(
      keys.chain((ks) => fc.array(fc.record({ key: fc.constantFrom(...ks), value: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)) }), { maxLength: 60 })),
      (records: SpooledRecord[]) => {
        const back = unpackRecords(packRecords(records));
        assert.deepEqual(
          back.map((r) => [r.key, r.value]),
          records.map((r) => [r.key, r.value]),
        );
      },
    ),
    { numRuns: 300 },
  );
});

test('unpacking hands each distinct key to the interner once per batch', () => {
  const aapl = Buffer.from('AAPL');
  const msft = Buffer.from('MSFT');
  const records = [aapl, msft, aapl, aapl, msft].map((key, i) => ({ key, value: Buffer.from([i]) }));
  const seen: string[] = [];
  const back = unpackRecords(packRecords(records), (key) => {
    seen.push(key.toString());
    return key;
  });
  assert.deepEqual(seen, ['AAPL', 'MSFT']);
  assert.deepEqual(back.map((r) => r.key.toString()), ['AAPL', 'MSFT', 'AAPL', 'AAPL', 'MSFT']);
});

test('a truncated batch is rejected, not read past its end', () => {
  const packed = packRecords([{ key: Buffer.from('AAPL'), value: Buffer.alloc(32, 7) }]);
  assert.throws(() => unpackRecords(packed.subarray(0, packed.length - 1)), RangeError);
});
