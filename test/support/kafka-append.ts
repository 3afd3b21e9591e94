import type { KafkaTradeProducer } from '../../src/bus/index.ts';
import type { Trade } from '../../src/domain/index.ts';
import { until } from './until.ts';

/**
 * Appends the trades and waits until Kafka has them all. An append settles once Kafka took its
 * records, or once they are in the spool to be sent: a first send to a topic made a moment
 * before can fail while its partitions' leaders are still being set up.
 */
export async function appendAcknowledged(producer: KafkaTradeProducer, trades: readonly Trade[], timeoutMs = 30_000): Promise<void> {
  await producer.append(trades);
  await until(() => producer.spoolDepth() === 0, `Kafka to take the ${trades.length} trades the producer spooled`, timeoutMs);
}
