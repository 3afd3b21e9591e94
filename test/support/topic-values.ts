import { KafkaConsole } from '../../src/bus/index.ts';

/** The newest values (up to the console's limit) on each partition of a topic, decoded as the Kafka console shows them; [] when there is no such topic. */
export async function topicValues(brokers: readonly string[], topic: string): Promise<unknown[]> {
  const kafka = new KafkaConsole({ brokers, clientId: 'tickstream-test' });
  try {
    const info = await kafka.topic(topic);
    const values: unknown[] = [];
    for (const { partition } of info?.partitions ?? []) {
      for (const m of (await kafka.messages({ topic, partition, limit: 100 })) ?? []) values.push(m.value);
    }
    return values;
  } finally {
    await kafka.close();
  }
}
