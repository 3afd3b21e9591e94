// Shared by the Spark stack tests: the config of a Spark-engine run and a producer onto a topic of the test.
import { KafkaTradeProducer } from '../../src/bus/index.ts';
import { loadConfig, type Config, type ConfigKey } from '../../src/config/index.ts';
import type { Trade } from '../../src/domain/index.ts';
import type { StackEndpoints } from './stack-fixture.ts';

/** The cluster profile with the Spark engine on the stack's endpoints: 500 ms triggers, silent, plus `flags`. */
export function sparkTestConfig(stack: StackEndpoints, dataDir: string, flags: Partial<Record<ConfigKey, string>>): Config {
  return loadConfig({
    env: {},
    cwd: dataDir,
    flags: {
      profile: 'cluster',
      engine: 'spark',
      dataDir,
      flushInterval: '500ms',
      logLevel: 'silent',
      'kafka.brokers': stack.kafkaBrokers,
      'cassandra.contactPoints': stack.cassandraContactPoint,
      'spark.connectUrl': stack.sparkConnectUrl,
      ...flags,
    },
  });
}

/** Appends the trades to a topic as the produce role does (Avro, key = symbol) and waits for Kafka to have them. */
export async function produceToTopic(stack: StackEndpoints, topic: string, dataDir: string, trades: readonly Trade[]): Promise<void> {
  const producer = new KafkaTradeProducer({ brokers: [stack.kafkaBrokers], clientId: 'tickstream-it', format: 'avro', dataDir, spoolLimit: Math.max(10_000, trades.length), topic });
  try {
    await producer.append(trades);
  } finally {
    await producer.close();
  }
}
