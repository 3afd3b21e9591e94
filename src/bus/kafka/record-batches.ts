import type { KafkaRecord, RecordsBatch } from '@platformatic/kafka';

/** Kafka's control-batch flag: transaction markers, which take offsets but hold no records for readers. */
const IS_CONTROL_BATCH = 1 << 5;

/**
 * Walks the records of one partition's fetched batches from offset `next` up to `stop`
 * (exclusive), in offset order, handing each to `visit` with its offset; returns the offset to
 * fetch next. The broker answers with whole batches, which may start before the offset asked
 * for; a control batch, or the end of a batch whose last records were compacted away, moves
 * the position past it all the same.
 */
export function walkRecords(
  batches: readonly RecordsBatch[],
  next: bigint,
  stop: bigint,
  visit: (record: KafkaRecord, offset: bigint, batch: RecordsBatch) => void,
): bigint {
  for (const batch of batches) {
    const last = batch.firstOffset + BigInt(batch.lastOffsetDelta);
    if ((batch.attributes & IS_CONTROL_BATCH) !== 0) {
      if (last >= next && last < stop) next = last + 1n;
      continue;
    }
    for (const r of batch.records) {
      const at = batch.firstOffset + BigInt(r.offsetDelta);
      if (at < next || at >= stop) continue;
      next = at + 1n;
      visit(r, at, batch);
    }
    if (last >= next && last < stop) next = last + 1n;
  }
  return next;
}
