import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KafkaRecord, RecordsBatch } from '@platformatic/kafka';
import { walkRecords } from '../../../src/bus/kafka/record-batches.ts';

const CONTROL = 1 << 5;

/** A batch at `firstOffset` holding records at the given offset deltas, spanning `lastOffsetDelta`. */
function batch(firstOffset: number, deltas: readonly number[], lastOffsetDelta = Math.max(0, ...deltas), attributes = 0): RecordsBatch {
  const records: KafkaRecord[] = deltas.map((offsetDelta) => ({ length: 0, attributes: 0, timestampDelta: 0n, offsetDelta, key: null, value: Buffer.from(`v${firstOffset + offsetDelta}`), headers: [] }));
  return {
    firstOffset: BigInt(firstOffset), length: 0, partitionLeaderEpoch: 0, magic: 2, crc: 0, attributes, lastOffsetDelta,
    firstTimestamp: 0n, maxTimestamp: 0n, producerId: -1n, producerEpoch: -1, firstSequence: -1, records,
  };
}

function walk(batches: readonly RecordsBatch[], next: number, stop: number): { offsets: number[]; next: number } {
  const offsets: number[] = [];
  const after = walkRecords(batches, BigInt(next), BigInt(stop), (r, at) => {
    assert.equal(r.value?.toString(), `v${at}`, 'each record comes with its own offset');
    offsets.push(Number(at));
  });
  return { offsets, next: Number(after) };
}

test('records before the asked offset (the broker sends whole batches) and from the stop on are skipped', () => {
  const batches = [batch(10, [0, 1, 2, 3]), batch(14, [0, 1, 2])];
  assert.deepEqual(walk(batches, 12, 100), { offsets: [12, 13, 14, 15, 16], next: 17 });
  assert.deepEqual(walk(batches, 12, 15), { offsets: [12, 13, 14], next: 15 });
  assert.deepEqual(walk(batches, 20, 100), { offsets: [], next: 20 }, 'nothing new: the position stays');
});

test('a control batch and records compacted away at a batch\'s end move the position past them', () => {
  const batches = [batch(0, [0, 1]), batch(2, [], 0, CONTROL), batch(3, [0, 2], 4)];
  // Offsets 2 (a transaction marker), 4 and 6 and 7 (compacted) hold nothing to read.
  assert.deepEqual(walk(batches, 0, 100), { offsets: [0, 1, 3, 5], next: 8 });
  assert.deepEqual(walk(batches, 0, 6), { offsets: [0, 1, 3, 5], next: 6 }, 'but never past the stop');
});
