import type { KafkaLogBounds } from '../bus/index.ts';
import { kafkaOffsets, type StreamingQueryProgress } from '../spark/index.ts';

/**
 * The Spark engine's log lag: the records of `topic` its trades query has not processed,
 * summed over partitions, from the end offsets of the query's last micro-batch (`progress`)
 * and the topic's log now. A partition the progress does not name (added to the topic since)
 * counts from its log start, as the query reads it from there; records retention has removed
 * are not counted. null (unknown) without a progress, or when its sources name no end offsets
 * of the topic: nothing processed yet, or a query just started from its checkpoint.
 */
export function sparkLogLag(progress: StreamingQueryProgress | null, topic: string, log: readonly KafkaLogBounds[]): number | null {
  if (progress === null) return null;
  const read = readOffsets(progress, topic);
  if (read === undefined) return null;
  let lag = 0;
  for (const { partition, start, end } of log) lag += Math.max(0, end - Math.max(start, read.get(partition) ?? start));
  return lag;
}

/** Where the batch left off in each partition of `topic`: the end offsets of the Kafka source that reads it. */
function readOffsets(progress: StreamingQueryProgress, topic: string): Map<number, number> | undefined {
  const sources = progress.json['sources'];
  if (!Array.isArray(sources)) return undefined;
  for (const source of sources as unknown[]) {
    if (typeof source !== 'object' || source === null) continue;
    const ends = kafkaOffsets((source as Record<string, unknown>)['endOffset'])?.get(topic);
    if (ends !== undefined) return ends;
  }
  return undefined;
}
