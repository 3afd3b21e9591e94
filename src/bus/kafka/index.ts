export { KafkaTradeProducer, type KafkaTradeProducerOptions } from './kafka-trade-producer.ts';
export { KafkaTradeConsumer, type KafkaTradeConsumerOptions, type UndecodableRecord } from './kafka-trade-consumer.ts';
export { KafkaSideLog, type KafkaSideLogOptions } from './kafka-side-log.ts';
export { ensureTradeTopics, topicPartitions, type TopicSettings } from './kafka-topics.ts';
export { createTradeCodec, loadTradeAvroType, TRADE_SCHEMA_URL, type TradeCodec, type TradeFormat } from './trade-codec.ts';
export { TradeSpool, type SpooledRecord, type TradeSpoolOptions } from './trade-spool.ts';
export { type KafkaCompression, type KafkaConnection } from './kafka-options.ts';
export { KafkaConsole, MESSAGE_LIMIT, releaseOf, type KafkaConsoleOptions } from './kafka-console.ts';
export type * from './kafka-console-wire.ts';
