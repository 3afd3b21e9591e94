import { Admin, ListOffsetTimestamps } from '@platformatic/kafka';
import { TOPICS } from '../../src/bus/index.ts';

/** The end offset (next offset to be written) of every partition of a topic. */
export async function logEnd(brokers: readonly string[], topic: string = TOPICS.trades): Promise<Map<number, bigint>> {
  const admin = new Admin({ clientId: 'tickstream-offsets', bootstrapBrokers: [...brokers] });
  try {
    const metadata = await admin.metadata({ topics: [topic] });
    const count = metadata.topics.get(topic)?.partitionsCount;
    if (count === undefined) throw new Error(`topic ${topic} not found`);
    const partitions = Array.from({ length: count }, (_, p) => ({ partitionIndex: p, timestamp: ListOffsetTimestamps.LATEST }));
    const listed = await admin.listOffsets({ topics: [{ name: topic, partitions }] });
    const end = new Map<number, bigint>();
    for (const p of listed.find((l) => l.name === topic)?.partitions ?? []) end.set(p.partitionIndex, p.offset);
    if (end.size !== count) throw new Error(`end offsets of ${topic}: got ${end.size} of ${count} partitions`);
    return end;
  } finally {
    await admin.close().catch(() => {});
  }
}

/**
 * Commits offsets for a consumer group that has no members yet. A fresh group placed at the
 * log end reads only what is appended after this call, although `market.trades` is shared
 * with every earlier run.
 */
export async function commitGroupOffsets(
  brokers: readonly string[],
  groupId: string,
  offsets: ReadonlyMap<number, bigint>,
  topic: string = TOPICS.trades,
): Promise<void> {
  const admin = new Admin({ clientId: 'tickstream-offsets', bootstrapBrokers: [...brokers] });
  try {
    const partitionOffsets = [...offsets].map(([partition, offset]) => ({ partition, offset }));
    await admin.alterConsumerGroupOffsets({ groupId, topics: [{ name: topic, partitionOffsets }] });
  } finally {
    await admin.close().catch(() => {});
  }
}

/** Deletes consumer groups that have no members left; a group that is gone already, or still has members, is skipped. */
export async function deleteGroups(brokers: readonly string[], groups: readonly string[]): Promise<void> {
  if (groups.length === 0) return;
  const admin = new Admin({ clientId: 'tickstream-offsets', bootstrapBrokers: [...brokers] });
  try {
    for (const group of groups) await admin.deleteGroups({ groups: [group] }).catch(() => {});
  } finally {
    await admin.close().catch(() => {});
  }
}
