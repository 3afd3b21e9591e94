/**
 * The topics of DESIGN.md. The trades topic is configurable (`kafka.topic`); its side topics are
 * named after it. A module with no imports, so the config schema and the HTTP routes can use it
 * without loading the Kafka client.
 */

/** A pipeline's topics: the trades, and the dead letters and late trades beside them. */
export interface PipelineTopics {
  readonly trades: string;
  /** `<trades>.dlq`: invalid input with its reason. */
  readonly deadLetters: string;
  /** `<trades>.late`: trades behind the watermark. */
  readonly late: string;
  /**
   * The Spark engine's own topic between its bar queries and its bar writer: `.trades` at the end of
   * the trades topic becomes `.bars.spark` (market.trades → market.bars.spark); any other name gets
   * `.bars.spark` added. Two pipelines on one cluster must not read each other's bars.
   */
  readonly sparkBars: string;
}

/** The part a topic plays in a pipeline, as the HTTP API names it. */
export type PipelineTopicRole = 'trades' | 'dead_letters' | 'late';

const TRADES_SUFFIX = '.trades';
const SPARK_BARS_SUFFIX = '.bars.spark';

/** The topics of a pipeline whose trades topic is `trades`. */
export function pipelineTopics(trades: string): PipelineTopics {
  const stem = trades.endsWith(TRADES_SUFFIX) ? trades.slice(0, -TRADES_SUFFIX.length) : trades;
  return { trades, deadLetters: `${trades}.dlq`, late: `${trades}.late`, sparkBars: `${stem}${SPARK_BARS_SUFFIX}` };
}

/** The default topics: `market.trades`, `market.trades.dlq`, `market.trades.late` and `market.bars.spark`. */
export const TOPICS: PipelineTopics = pipelineTopics('market.trades');

/** The topics of DESIGN.md that a pipeline makes at start: the trades and its two side topics (Spark makes its own). */
export function tradeTopicNames(topics: PipelineTopics): string[] {
  return [topics.trades, topics.deadLetters, topics.late];
}

/** Which of a pipeline's topics `name` is, or null for any other topic. */
export function topicRole(topics: PipelineTopics, name: string): PipelineTopicRole | null {
  if (name === topics.trades) return 'trades';
  if (name === topics.deadLetters) return 'dead_letters';
  if (name === topics.late) return 'late';
  return null;
}

/** Kafka's own rule for a topic name (kafka.common.internals.Topic): legal characters, at most `maxLength`, not "." or "..". */
export function topicNamePattern(maxLength: number): RegExp {
  return new RegExp(`^(?!\\.{1,2}$)[A-Za-z0-9._-]{1,${maxLength}}$`);
}

/** Any topic name Kafka takes: at most 249 characters. */
export const TOPIC_NAME = topicNamePattern(249);

/** The longest trades topic whose other topics (`.bars.spark` is the longest suffix) still fit Kafka's 249. */
export const MAX_TRADES_TOPIC_LENGTH = 249 - SPARK_BARS_SUFFIX.length;
