// The JSON the Kafka console answers with, served by the HTTP API under /api/kafka and read by
// the dashboard. Types only, with no imports, so the browser build can share them.
//
// snake_case like the rest of the HTTP API. Offsets are numbers: a partition would need 2^53
// records before they lose precision.

export interface KafkaBrokerInfo {
  id: number;
  host: string;
  port: number;
  rack: string | null;
  controller: boolean;
}

export interface KafkaClusterInfo {
  cluster_id: string;
  controller_id: number;
  /** The release of the cluster's finalized metadata.version, e.g. "4.4"; null when the broker does not say. */
  version: string | null;
  metadata_version: number | null;
  brokers: KafkaBrokerInfo[];
}

export interface KafkaPartitionInfo {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
  start_offset: number;
  end_offset: number;
  /** end − start: transaction markers and compacted-away records make it an upper bound. */
  messages: number;
}

export interface KafkaTopicInfo {
  name: string;
  partitions: KafkaPartitionInfo[];
  replication: number;
  messages: number;
  /** Bytes on disk over every replica; null when the broker cannot describe its log dirs. */
  size_bytes: number | null;
  /** Every config entry in force (sensitive values shown as ***). */
  config: Record<string, string | null>;
  /** The entries set on the topic itself rather than inherited. */
  config_overrides: string[];
  /** The part the topic plays in the pipeline served (its trades, dead letters or late trades); null for any other topic. */
  role: 'trades' | 'dead_letters' | 'late' | null;
}

export interface KafkaGroupPartition {
  topic: string;
  partition: number;
  /** Next offset the group reads; null when it has committed none. */
  committed: number | null;
  end: number | null;
  /** Records from the committed offset to the end; null when either is unknown, or when the committed offset is past the end. */
  lag: number | null;
  /**
   * The committed offset is past the log end: the topic was deleted and created again (its
   * offsets started over), or records were removed. The group reads nothing until the log gets
   * there, or resets to where its consumer's offset reset policy says; there is no lag to give.
   */
  past_end: boolean;
}

export interface KafkaGroupMember {
  member_id: string;
  client_id: string;
  host: string;
  assignments: { topic: string; partitions: number[] }[];
}

export interface KafkaGroupInfo {
  group_id: string;
  state: string;
  protocol: string;
  protocol_type: string;
  members: KafkaGroupMember[];
  partitions: KafkaGroupPartition[];
  lag: number;
}

/** How a record value is shown: a trade codec's decoding, JSON, text, base64 bytes, or a tombstone (`null`). */
export type KafkaValueFormat = 'avro' | 'json' | 'text' | 'binary' | 'null';

export interface KafkaHeader {
  key: string;
  key_format: 'text' | 'binary';
  value: string | null;
  value_format: 'text' | 'binary' | null;
}

export interface KafkaMessage {
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  key_format: 'text' | 'binary' | null;
  /** Each header's key and value as text, or as base64 where `key_format` / `value_format` is "binary" (a null value has a null format). */
  headers: KafkaHeader[];
  value_format: KafkaValueFormat;
  /** A trade record or parsed JSON; text as is; binary as base64. */
  value: unknown;
}

export interface KafkaMessageQuery {
  topic: string;
  partition: number;
  /** First offset to show; without it (and without timestamp) the newest `limit` records. */
  offset?: number;
  /** Epoch ms: start at the first record at or after it. */
  timestamp?: number;
  limit: number;
}

export interface KafkaNewTopic {
  name: string;
  partitions: number;
  /** Absent: the broker's default.replication.factor. */
  replication?: number;
  config?: Record<string, string>;
}

/** What the broker made of a KafkaNewTopic: its default replication applied. */
export interface KafkaMadeTopic {
  readonly partitions: number;
  readonly replication: number;
}

/** KafkaConsole.progress(): end offsets summed per topic, and one group's committed offsets and lag on one topic. */
export interface KafkaProgress {
  readonly endOffsets: ReadonlyMap<string, number>;
  /** Committed offsets summed over the partitions the group has committed; null when it has committed none. */
  readonly committed: number | null;
  /** End minus committed, summed over those partitions; null when the group has committed none. */
  readonly lag: number | null;
}

/** KafkaConsole.logBounds(): one partition's first offset still in the log and the offset its next record gets. */
export interface KafkaLogBounds {
  readonly partition: number;
  readonly start: number;
  readonly end: number;
}

/** One page of the message browser, and whether its byte budget left records out. */
export interface KafkaMessagePage {
  messages: KafkaMessage[];
  /**
   * The budget of key and value bytes (32 MiB unless configured) when the page was cut short by
   * it: the newest dropped older records, a page from an offset or a time ended early. Else null.
   */
  cut_at_bytes: number | null;
}
