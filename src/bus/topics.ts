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
}

/** The part a topic plays in a pipeline, as the HTTP API names it. */
export type PipelineTopicRole = 'trades' | 'dead_letters' | 'late';

/** The topics of a pipeline whose trades topic is `trades`. */
export function pipelineTopics(trades: string): PipelineTopics {
  return { trades, deadLetters: `${trades}.dlq`, late: `${trades}.late` };
}

/** The default topics: `market.trades`, `market.trades.dlq` and `market.trades.late`. */
export const TOPICS: PipelineTopics = pipelineTopics('market.trades');

/** Which of a pipeline's topics `name` is, or null for any other topic. */
export function topicRole(topics: PipelineTopics, name: string): PipelineTopicRole | null {
  if (name === topics.trades) return 'trades';
  if (name === topics.deadLetters) return 'dead_letters';
  if (name === topics.late) return 'late';
  return null;
}

/** Kafka's own rule for a topic name (kafka.common.internals.Topic): legal characters, at most 249, not "." or "..". */
export const TOPIC_NAME = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,249}$/;

/** The longest trades topic whose side topics (`.late` is the longer suffix) still fit Kafka's 249. */
export const MAX_TRADES_TOPIC_LENGTH = 249 - '.late'.length;
