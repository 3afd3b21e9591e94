import { MAX_TRADES_TOPIC_LENGTH, topicNamePattern } from '../bus/topics.ts';
import { durationMs, parseInterval, SYMBOL_PATTERN, type DurationMs, type Interval } from '../domain/index.ts';
import { DEFAULT_REPLICATION, parseReplication, REPLICATION_ALLOWED, replicationText } from '../store/keyspace-replication.ts';
import {
  durationField,
  enumField,
  hostField,
  hostPortListField,
  intField,
  intervalsField,
  listField,
  notationField,
  numberField,
  optionalStringField,
  stringField,
  urlField,
  type Field,
} from './field.ts';

export const PROFILES = ['embedded', 'cluster'] as const;
export const SOURCE_KINDS = ['simulator', 'finnhub', 'replay'] as const;
export const ENGINES = ['ts', 'spark'] as const;
export const STORES = ['sqlite', 'cassandra', 'auto'] as const;
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export const WIRE_FORMATS = ['avro', 'json'] as const;
/** Record batch compressions the Kafka client has on Node 20 (zstd needs Node 22.15's node:zlib). */
export const KAFKA_COMPRESSIONS = ['lz4', 'snappy', 'gzip', 'none'] as const;

export type Profile = (typeof PROFILES)[number];
export type SourceKind = (typeof SOURCE_KINDS)[number];
export type EngineKind = (typeof ENGINES)[number];
export type StoreKind = (typeof STORES)[number];
export type LogLevel = (typeof LOG_LEVELS)[number];
export type WireFormat = (typeof WIRE_FORMATS)[number];
export type KafkaCompressionName = (typeof KAFKA_COMPRESSIONS)[number];

/** The whole typed configuration. Built once at start, validated, frozen, passed down. */
export interface Config {
  readonly profile: Profile;
  /** `finnhub` when a token is set, otherwise `simulator`, unless given. */
  readonly source: SourceKind | 'auto';
  readonly engine: EngineKind;
  /** `cassandra` in the cluster profile and `sqlite` in the embedded one, unless given. */
  readonly store: StoreKind;
  readonly symbols: readonly string[];
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  /** Port of the metrics-only listener of a produce or process role without the HTTP server; 0 = none. A command with the dashboard ignores it. */
  readonly metricsPort: number;
  readonly intervals: readonly Interval[];
  readonly lateness: DurationMs;
  readonly flushInterval: DurationMs;
  readonly partitions: number;
  readonly logCapacity: number;
  readonly statusInterval: DurationMs;
  readonly logLevel: LogLevel;
  readonly finnhub: {
    readonly url: string;
    readonly token: string | undefined;
  };
  readonly simulator: {
    readonly host: string;
    readonly port: number;
    readonly rate: number;
    readonly seed: number;
    readonly disorder: DurationMs;
    readonly batch: number;
  };
  readonly replay: {
    readonly file: string | undefined;
    readonly speed: number;
  };
  readonly kafka: {
    readonly brokers: readonly string[];
    readonly clientId: string;
    readonly groupId: string;
    readonly topic: string;
    readonly format: WireFormat;
    readonly compression: KafkaCompressionName;
    readonly topicPartitions: number;
    readonly retention: DurationMs;
    readonly spoolLimit: number;
  };
  readonly cassandra: {
    readonly contactPoints: readonly string[];
    readonly localDataCenter: string;
    readonly keyspace: string;
    /** `3` (SimpleStrategy) or `dc1:3,dc2:3` (NetworkTopologyStrategy), in its normal form. */
    readonly replication: string;
    readonly concurrency: number;
  };
  readonly spark: {
    readonly connectUrl: string;
    readonly maxOffsetsPerTrigger: number;
    readonly masterPort: number;
    readonly masterUiPort: number;
    readonly uiPort: number;
  };
}

type Leaves<T, P extends string = ''> = {
  [K in keyof T & string]: T[K] extends readonly unknown[] | string | number | boolean | undefined
    ? `${P}${K}`
    : Leaves<T[K], `${P}${K}.`>;
}[keyof T & string];

type At<T, Path extends string> = Path extends `${infer H}.${infer R}`
  ? H extends keyof T
    ? At<T[H], R>
    : never
  : Path extends keyof T
    ? T[Path]
    : never;

export type ConfigKey = Leaves<Config>;

/** Reads one value by key (`kafka.brokers` → config.kafka.brokers). */
export function configValue(config: Config, key: ConfigKey): unknown {
  return key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], config);
}
export type FieldTable = { readonly [K in ConfigKey]: Field<At<Config, K>> };

const DAY_MS = 86_400_000;
/**
 * The longest bar: a day, the largest unit the rest of the project plans for (trades are
 * partitioned by UTC day, lateness and disorder stop at a day, the server rolls up to 1h), and
 * far below where a window's end stops being a safe integer and the checkpoint unreadable.
 */
const MAX_INTERVAL_MS = DAY_MS;

/** Every configuration key, its default and its rules. Compiling fails if a key of Config is missing here. */
export const FIELDS: FieldTable = {
  profile: enumField({
    description: 'embedded: in-process log + SQLite; cluster: Kafka + Cassandra from `tickstream stack`',
    default: 'embedded',
    values: PROFILES,
  }),
  source: enumField({
    description: 'where trades come from; auto = finnhub when a token is set, else simulator',
    default: 'auto',
    values: [...SOURCE_KINDS, 'auto'],
  }),
  engine: enumField({ description: 'the stream processor', default: 'ts', values: ENGINES }),
  store: enumField({ description: 'where trades and bars are stored; auto = cassandra in the cluster profile, sqlite in the embedded one', default: 'auto', values: STORES }),
  symbols: listField({
    description: 'symbols to subscribe to, as Finnhub names them',
    default: ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'TSLA', 'BINANCE:BTCUSDT', 'BINANCE:ETHUSDT', 'OANDA:EUR_USD'],
    item: (s) => SYMBOL_PATTERN.test(s),
    itemAllowed: 'symbols such as AAPL or BINANCE:BTCUSDT',
    distinct: true,
  }),
  dataDir: stringField({ description: 'state directory: SQLite file, checkpoints, stack data and logs', default: './.tickstream' }),
  host: hostField({ description: 'address the HTTP server binds to', default: '127.0.0.1' }),
  port: intField({ description: 'HTTP port of the dashboard and API', default: 8080, min: 0, max: 65535 }),
  metricsPort: intField({
    description: 'port of the /metrics listener of a produce or process role, which serve no dashboard; 0 = none; a command that serves the dashboard (run, serve) answers /metrics on its HTTP port (--port) and ignores this',
    default: 0,
    min: 0,
    max: 65535,
  }),
  intervals: intervalsField({
    description: 'bar intervals, tumbling and aligned to the UTC epoch',
    default: [parseInterval('5s'), parseInterval('1m')] as Interval[],
    max: MAX_INTERVAL_MS,
  }),
  lateness: durationField({ description: 'how far behind the newest event time a trade may arrive and still count', default: durationMs(10_000), min: 0, max: DAY_MS }),
  flushInterval: durationField({ description: 'how often changed bars are written (update mode)', default: durationMs(1_000), min: 1, max: 3_600_000 }),
  partitions: intField({ description: 'partitions of the in-process log', default: 8, min: 1, max: 1024 }),
  logCapacity: intField({ description: 'records buffered per log partition before the producer is slowed down', default: 4_096, min: 16, max: 10_000_000 }),
  statusInterval: durationField({ description: 'how often the one-line status is printed', default: durationMs(5_000), min: 1_000, max: 3_600_000, zeroIsOff: true }),
  logLevel: enumField({ description: 'log verbosity', default: 'info', values: LOG_LEVELS }),
  'finnhub.url': urlField({ description: 'Finnhub WebSocket URL', default: 'wss://ws.finnhub.io', schemes: ['ws', 'wss'], pattern: /^wss?:\/\/\S+$/, allowed: 'a ws:// or wss:// URL (a port, if given, from 1 to 65535)' }),
  'finnhub.token': optionalStringField({ description: 'Finnhub API key; never logged', default: undefined, secret: true, extraEnv: ['FINNHUB_TOKEN'] }),
  'simulator.host': hostField({ description: 'address the simulator binds to', default: '127.0.0.1' }),
  'simulator.port': intField({ description: 'simulator WebSocket port (Finnhub protocol); 0 picks a free port', default: 8765, min: 0, max: 65535 }),
  'simulator.rate': intField({ description: 'simulated trades per second over all symbols; 0 = as fast as possible', default: 200, min: 0, max: 10_000_000 }),
  'simulator.seed': intField({ description: 'seed of the simulated market; the same seed gives the same trades', default: 42, min: 0, max: 2 ** 31 - 1 }),
  'simulator.disorder': durationField({ description: 'largest step back in event time between simulated trades', default: durationMs(250), min: 0, max: DAY_MS }),
  'simulator.batch': intField({ description: 'most trades in one simulated message', default: 50, min: 1, max: 10_000 }),
  'replay.file': optionalStringField({ description: 'NDJSON file of trades to replay (source=replay); - is standard input', default: undefined }),
  'replay.speed': numberField({ description: 'replay speed factor; 0 = as fast as possible', default: 1, min: 0, max: 1_000_000 }),
  'kafka.brokers': hostPortListField({ description: 'Kafka bootstrap servers', default: ['127.0.0.1:9092'] }),
  'kafka.clientId': stringField({ description: 'Kafka client id', default: 'tickstream' }),
  'kafka.groupId': stringField({ description: 'consumer group of the TS engine', default: 'tickstream-engine' }),
  'kafka.topic': stringField({
    description: 'the trades topic; dead letters and late trades go to its name plus .dlq and .late',
    default: 'market.trades',
    pattern: topicNamePattern(MAX_TRADES_TOPIC_LENGTH),
    allowed: `a Kafka topic name: 1-${MAX_TRADES_TOPIC_LENGTH} letters, digits, ".", "_" or "-", not "." or ".."`,
  }),
  'kafka.format': enumField({ description: 'wire format of the trades topic', default: 'avro', values: WIRE_FORMATS }),
  'kafka.compression': enumField({ description: 'compression of the record batches tickstream produces', default: 'lz4', values: KAFKA_COMPRESSIONS }),
  'kafka.topicPartitions': intField({ description: 'partitions of the topics created by the stack', default: 6, min: 1, max: 1000 }),
  'kafka.retention': durationField({ description: 'retention of the topics created by the stack', default: durationMs(DAY_MS), min: 60_000, max: 365 * DAY_MS }),
  'kafka.spoolLimit': intField({ description: 'most trades kept on disk while Kafka is unreachable', default: 5_000_000, min: 1_000, max: 1_000_000_000 }),
  'cassandra.contactPoints': hostPortListField({ description: 'Cassandra contact points', default: ['127.0.0.1:9042'] }),
  'cassandra.localDataCenter': stringField({ description: 'Cassandra local data center', default: 'datacenter1' }),
  'cassandra.keyspace': stringField({ description: 'Cassandra keyspace', default: 'market', pattern: /^[a-z][a-z0-9_]{0,47}$/, allowed: 'a lower-case CQL identifier' }),
  'cassandra.replication': notationField({
    description:
      'replication of the Cassandra keyspace, used when the first migration creates it (an existing keyspace keeps its own): N = SimpleStrategy with N copies, dc1:3,dc2:3 = NetworkTopologyStrategy with 3 copies in each of dc1 and dc2',
    default: DEFAULT_REPLICATION,
    normalize: (text) => {
      const replication = parseReplication(text);
      return replication === undefined ? undefined : replicationText(replication);
    },
    allowed: REPLICATION_ALLOWED,
  }),
  'spark.connectUrl': urlField({
    description: "Spark Connect server of the Spark engine; the stack's Connect server (`tickstream stack up spark`) listens on its port, on every interface",
    default: 'sc://127.0.0.1:15002',
    schemes: ['sc'],
    pattern: /^sc:\/\/\S+$/,
    allowed: 'an sc://host:port URL with a port from 1 to 65535',
  }),
  'spark.maxOffsetsPerTrigger': intField({
    description: 'most Kafka records one Spark micro-batch reads, to bound memory while a job catches up on a backlog; 0 = no bound (every batch reads all that is there, which keeps the bars exact)',
    default: 0,
    min: 0,
    max: 1_000_000_000,
  }),
  // The max leaves room for the two workers, which take the next two ports.
  'spark.masterPort': intField({
    description: "port of the master of the stack's local Spark cluster (`tickstream stack up spark`); its two workers take the next two ports",
    default: 7077,
    min: 1,
    max: 65533,
  }),
  'spark.masterUiPort': intField({
    description: "web UI port of the master of the stack's local Spark cluster (`tickstream stack up spark`); its two workers' UIs take the next two ports",
    default: 8081,
    min: 1,
    max: 65533,
  }),
  'spark.uiPort': intField({
    description:
      "web UI port of the driver of the stack's Spark Connect server (`tickstream stack up spark`), Spark's spark.ui.port; when another program holds it, Spark moves the UI to the next free port",
    default: 4040,
    min: 1,
    max: 65535,
  }),
  'cassandra.concurrency': intField({ description: 'most Cassandra writes in flight', default: 64, min: 1, max: 4096 }),
};
