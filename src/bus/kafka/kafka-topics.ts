import { Admin, type CreateTopicsOptions } from '@platformatic/kafka';
import { TOPICS, tradeTopicNames, type PipelineTopics } from '../bus.ts';
import type { KafkaMadeTopic } from './kafka-console-wire.ts';
import { clientBase, isKafkaApiError, type KafkaConnection } from './kafka-options.ts';

export interface TopicSettings {
  readonly partitions: number;
  readonly retentionMs: number;
  readonly replicas?: number;
}

/**
 * Creates the pipeline's topics (by default those of DESIGN.md) that do not exist yet; returns the
 * names it created. A topic that another client creates meanwhile counts as existing: a producer
 * and an engine started together both try, and a broker just started may list a topic a moment
 * after it was created.
 */
export async function ensureTradeTopics(connection: KafkaConnection, settings: TopicSettings, topics: PipelineTopics = TOPICS): Promise<string[]> {
  const admin = new Admin(clientBase(connection, 'admin'));
  try {
    const existing = new Set(await admin.listTopics());
    const created: string[] = [];
    for (const topic of tradeTopicNames(topics)) {
      if (existing.has(topic)) continue;
      const made = await createTopicUnlessExists(admin, {
        topics: [topic],
        partitions: settings.partitions,
        replicas: settings.replicas ?? 1,
        configs: [{ name: 'retention.ms', value: String(settings.retentionMs) }],
      });
      if (made !== undefined) created.push(topic);
    }
    return created;
  } finally {
    await admin.close().catch(() => {});
  }
}

/** Creates a topic; undefined when it exists already, e.g. because another client made it a moment before. */
export async function createTopicUnlessExists(admin: Admin, options: CreateTopicsOptions): Promise<KafkaMadeTopic | undefined> {
  try {
    const [made] = await admin.createTopics(options);
    return { partitions: made?.partitions ?? options.partitions ?? -1, replication: made?.replicas ?? options.replicas ?? -1 };
  } catch (error) {
    if (isKafkaApiError(error, 'TOPIC_ALREADY_EXISTS')) return undefined;
    throw error;
  }
}

/** Partition count of a topic, e.g. to compute where a symbol lands. */
export async function topicPartitions(connection: KafkaConnection, topic: string = TOPICS.trades): Promise<number> {
  const admin = new Admin(clientBase(connection, 'admin'));
  try {
    const metadata = await admin.metadata({ topics: [topic] });
    const found = metadata.topics.get(topic);
    if (found === undefined) throw new Error(`topic ${topic} not found`);
    return found.partitionsCount;
  } finally {
    await admin.close().catch(() => {});
  }
}
