import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRecordsBatch, Reader, readRecordsBatch } from '@platformatic/kafka';
import { nextSequence } from '../../../src/bus/kafka/kafka-record-sender.ts';
import { RecordBatchWriter } from '../../../src/bus/kafka/record-batch-writer.ts';
import type { SpooledRecord } from '../../../src/bus/kafka/trade-spool.ts';

const header = { producerId: 4_000_000_001n, producerEpoch: 3, firstSequence: 2_000_000_000, timestamp: 1_796_400_000_123 };

/** Records whose keys, values and offset deltas need 1- to 3-byte varints. */
function records(count: number): SpooledRecord[] {
  const keys = [Buffer.from('AAPL'), Buffer.from('BINANCE:BTCUSDT'), Buffer.alloc(70, 'k')];
  return Array.from({ length: count }, (_, i) => ({ key: keys[i % keys.length]!, value: Buffer.alloc(i % 5 === 0 ? 9_000 : 1 + (i % 90), i % 251) }));
}

test('an uncompressed batch is byte for byte what the Kafka client writes for the same records', () => {
  const input = records(9_000);
  const ours = new RecordBatchWriter().write(input, { ...header, compression: 'none' });
  const messages = input.map((r) => ({ topic: 't', partition: 0, key: r.key, value: r.value, headers: new Map<Buffer, Buffer>(), timestamp: BigInt(header.timestamp) }));
  const theirs = createRecordsBatch(messages, {
    producerId: header.producerId,
    producerEpoch: header.producerEpoch,
    sequences: { getWithDefault: () => header.firstSequence } as never,
    partitionLeaderEpoch: -1,
    compression: 'none',
  }).buffer;
  assert.equal(ours.length, theirs.length);
  assert.ok(ours.equals(theirs), 'the same bytes, CRC included');
});

for (const compression of ['none', 'gzip', 'snappy', 'lz4'] as const) {
  test(`a ${compression} batch reads back with every record, its offset delta and the producer's fields`, () => {
    const input = records(300);
    const writer = new RecordBatchWriter();
    writer.write(records(5), { ...header, compression }); // a batch before it leaves bytes in the scratch buffer
    const batch = readRecordsBatch(Reader.from(writer.write(input, { ...header, compression })));
    assert.equal(batch.magic, 2);
    assert.equal(batch.lastOffsetDelta, input.length - 1);
    assert.equal(batch.producerId, header.producerId);
    assert.equal(batch.producerEpoch, header.producerEpoch);
    assert.equal(batch.firstSequence, header.firstSequence);
    assert.equal(batch.firstTimestamp, BigInt(header.timestamp));
    assert.equal(batch.records.length, input.length);
    batch.records.forEach((r, i) => {
      assert.equal(r.offsetDelta, i);
      assert.equal(r.timestampDelta, 0n);
      assert.ok(r.key?.equals(input[i]!.key), `key of record ${i}`);
      assert.ok(r.value?.equals(input[i]!.value), `value of record ${i}`);
      assert.deepEqual(r.headers, []);
    });
  });
}

test('a batch needs a record', () => {
  assert.throws(() => new RecordBatchWriter().write([], { ...header, compression: 'none' }), /at least one record/);
});

test('sequence numbers wrap to 0 after the largest int32, as the broker expects', () => {
  assert.equal(nextSequence(0, 5), 5);
  assert.equal(nextSequence(0x7fffffff - 4, 5), 0);
  assert.equal(nextSequence(0x7fffffff, 3), 2);
});
