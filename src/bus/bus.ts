import type { Offset, Trade } from '../domain/index.ts';

/** One trade in the log, at its partition and offset. */
export interface LogRecord {
  readonly partition: number;
  readonly offset: Offset;
  readonly trade: Trade;
}

/** Appends trades to `market.trades`, keyed (partitioned) by symbol. */
export interface TradeLogProducer {
  /**
   * Resolves once the log has accepted every trade. It is the backpressure:
   * it waits while the log is full. Never drops a trade.
   */
  append(trades: readonly Trade[]): Promise<void>;
  close(): Promise<void>;
}

/** What a consumer tells the processor. Every callback is awaited before the next. */
export interface ConsumerHandler {
  /**
   * Partitions given to this consumer. Returns, per partition, the next offset to read (from the
   * checkpoint); absent = from the committed offset or the start. `logId` names the log the
   * offsets belong to (Kafka's topic id; the in-process log has none): a checkpoint saved on
   * another log (the topic was deleted and created again) must not be resumed.
   */
  assigned(partitions: readonly number[], logId?: string): Promise<ReadonlyMap<number, Offset>>;
  /** Partitions taken away. The processor flushes and drops their state before this resolves. */
  revoked(partitions: readonly number[]): Promise<void>;
  /** Records of one partition, in offset order. Awaiting it slows the consumer down. */
  records(partition: number, records: readonly LogRecord[]): Promise<void>;
  /**
   * The group is moving partitions. Called at once, outside the order above (it may overlap
   * `records`), so the processor can store what it has read before another member picks up
   * a partition from the stored checkpoint; `revoked` still follows for what is lost.
   */
  rebalancing?(): Promise<void>;
}

export interface TradeLogConsumer {
  start(handler: ConsumerHandler): Promise<void>;
  /** Commits, per partition, the next offset to read. Called only after the store has the bars. */
  commit(offsets: ReadonlyMap<number, Offset>): Promise<void>;
  /** Records not yet read, per assigned partition. */
  lag(): ReadonlyMap<number, number>;
  /**
   * Whether this reader still holds the partition as far as it has heard: false as soon as the
   * group has given it to another member, before `revoked` reaches the handler. A write held
   * up until then (a store that was down) must not save that partition's bars and checkpoint
   * over what the new owner writes. Absent for a log with one reader, which always holds it.
   */
  holds?(partition: number): boolean;
  close(): Promise<void>;
}

/** A side topic: `market.trades.dlq` and `market.trades.late`. Entries are JSON-serialisable. */
export interface SideLog<T> {
  append(entries: readonly T[]): Promise<void>;
  close(): Promise<void>;
}

export { MAX_TRADES_TOPIC_LENGTH, pipelineTopics, TOPIC_NAME, topicNamePattern, topicRole, TOPICS, tradeTopicNames, type PipelineTopicRole, type PipelineTopics } from './topics.ts';
