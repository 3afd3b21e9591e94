// Generates deploy/docker-compose.yml and deploy/prometheus/prometheus.yml from the description below.
// Usage: node --import tsx scripts/deploy.ts [--check]   (--check exits 1 when a committed file is stale)
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TOPICS, tradeTopicNames } from '../src/bus/index.ts';
import { CONFIG_FIELDS, CONFIG_KEYS, envName, type ConfigKey } from '../src/config/index.ts';
import { CASSANDRA_RELEASE, KAFKA_RELEASE, SPARK_RELEASE, SPARK_SCALA_BINARY_VERSION, SPARK_VERSION } from '../src/stack/versions.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const COMPOSE_PATH = join(ROOT, 'deploy', 'docker-compose.yml');
export const PROMETHEUS_PATH = join(ROOT, 'deploy', 'prometheus', 'prometheus.yml');

/** Images not built from versions.ts, pinned here. Grafana 11.6 is a line the Cassandra plugin 3.x supports. */
export const PINNED = {
  kafdrop: 'obsidiandynamics/kafdrop:4.1.0',
  grafana: 'grafana/grafana:11.6.0',
  cassandraPlugin: { id: 'hadesarchitect-cassandra-datasource', version: '3.3.0' },
  prometheus: 'prom/prometheus:v3.5.0',
} as const;

export const IMAGES = {
  kafka: `apache/kafka:${KAFKA_RELEASE.version}`,
  cassandra: `cassandra:${CASSANDRA_RELEASE.version}`,
  spark: `apache/spark:${SPARK_VERSION}-scala${SPARK_SCALA_BINARY_VERSION}-java17-ubuntu`,
  tickstream: 'tickstream:local',
  ...PINNED,
} as const;

/** Port of the metrics-only listener of the roles without an HTTP server (produce, process). */
export const METRICS_PORT = 9464;
/** The internal Kafka listener: containers reach the broker at kafka:19092, the host at localhost:9092. */
const KAFKA_INTERNAL = 'kafka:19092';

export interface Healthcheck {
  readonly test: readonly string[];
  readonly interval: string;
  readonly timeout: string;
  readonly retries: number;
  readonly start_period: string;
}

export interface ComposeService {
  readonly image: string;
  readonly build?: { readonly context: string; readonly dockerfile: string };
  readonly entrypoint?: readonly string[];
  readonly command?: readonly string[];
  readonly user?: string;
  readonly hostname?: string;
  readonly network_mode?: string;
  readonly environment?: Readonly<Record<string, string>>;
  readonly ports?: readonly string[];
  readonly volumes?: readonly string[];
  readonly depends_on?: Readonly<Record<string, { readonly condition: 'service_healthy' | 'service_started' | 'service_completed_successfully' }>>;
  readonly healthcheck?: Healthcheck;
  readonly restart?: 'unless-stopped' | 'no' | 'on-failure';
}

export interface ComposeFile {
  readonly name: string;
  readonly services: Readonly<Record<string, ComposeService>>;
  readonly volumes: Readonly<Record<string, Record<string, never>>>;
}

const health = (test: readonly string[], startPeriod = '30s', retries = 20): Healthcheck => ({
  test,
  interval: '10s',
  timeout: '5s',
  retries,
  start_period: startPeriod,
});

/** A TCP connect through bash's /dev/tcp: the Spark image has bash but neither curl nor wget for certain. */
const tcpCheck = (port: number): Healthcheck => health(['CMD', 'bash', '-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`], '30s');

/** node:20-slim has no curl or wget; node's fetch does the probe. */
const nodeHttpCheck = (url: string): Healthcheck =>
  health(['CMD', 'node', '-e', `fetch(${JSON.stringify(url)}).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`], '20s');

/** The TICKSTREAM_* variables of one key; compose only ever names keys that exist. */
const env = (values: Partial<Record<ConfigKey, string>>): Record<string, string> =>
  Object.fromEntries(Object.entries(values).map(([key, value]) => [envName(key as ConfigKey), value as string]));

/** The metrics listener's port variable, once the config has a `metricsPort` key; until then the roles cannot be told. */
const metricsPortEnv = (): Record<string, string> =>
  (CONFIG_KEYS as readonly string[]).includes('metricsPort') ? { [envName('metricsPort' as ConfigKey)]: String(METRICS_PORT) } : {};

const CLUSTER_ENV = env({
  profile: 'cluster',
  store: 'cassandra',
  dataDir: '/data',
  'kafka.brokers': KAFKA_INTERNAL,
  'cassandra.contactPoints': 'cassandra:9042',
  'cassandra.localDataCenter': 'datacenter1',
  'cassandra.keyspace': 'market',
});

const tickstream = (command: readonly string[], extra: Partial<ComposeService> = {}): ComposeService => ({
  image: IMAGES.tickstream,
  build: { context: '..', dockerfile: 'Dockerfile' },
  command,
  ...extra,
  environment: { ...CLUSTER_ENV, ...extra.environment },
});

/** The Spark packages the Connect server resolves at start: what versions.ts fetches, minus what the image ships. */
export function sparkPackages(): string[] {
  return SPARK_RELEASE.artifacts
    .filter((a) => !/^spark-(core|sql)_/.test(a.artifactId))
    .map((a) => `${a.groupId}:${a.artifactId}:${a.version}`);
}

const topicPartitions = CONFIG_FIELDS['kafka.topicPartitions'].default;
const topicRetentionMs = CONFIG_FIELDS['kafka.retention'].default;

function createTopicsScript(): string {
  const bin = '/opt/kafka/bin/kafka-topics.sh';
  return tradeTopicNames(TOPICS)
    .map(
      (topic) =>
        `${bin} --bootstrap-server ${KAFKA_INTERNAL} --create --if-not-exists --topic ${topic} --partitions ${topicPartitions} --replication-factor 1 --config retention.ms=${topicRetentionMs}`,
    )
    .join(' && ');
}

const sparkWorker = (n: number): ComposeService => ({
  image: IMAGES.spark,
  hostname: `spark-worker-${n}`,
  command: ['/opt/spark/bin/spark-class', 'org.apache.spark.deploy.worker.Worker', 'spark://spark-master:7077', '--cores', '2', '--memory', '2g', '--webui-port', '8081'],
  environment: { SPARK_NO_DAEMONIZE: 'true' },
  ports: [`${8081 + n}:8081`],
  volumes: ['pipeline-data:/data'],
  depends_on: { 'spark-master': { condition: 'service_healthy' }, 'data-init': { condition: 'service_completed_successfully' } },
  healthcheck: tcpCheck(8081),
  restart: 'unless-stopped',
});

/** The whole deployment: every role of DESIGN.md in its own container, with the stack's pinned versions. */
export function composeModel(): ComposeFile {
  const sparkConf: [string, string][] = [
    ['spark.master', 'spark://spark-master:7077'],
    ['spark.jars.ivy', '/tmp/.ivy2'],
    ['spark.sql.session.timeZone', 'UTC'],
    ['spark.sql.extensions', 'com.datastax.spark.connector.CassandraSparkExtensions'],
    ['spark.sql.catalog.cassandra', 'com.datastax.spark.connector.datasource.CassandraCatalog'],
    ['spark.cassandra.connection.host', 'cassandra'],
    ['spark.cassandra.connection.port', '9042'],
    ['spark.cassandra.connection.localDC', 'datacenter1'],
    ['spark.sql.shuffle.partitions', '4'],
  ];
  return {
    name: 'tickstream',
    services: {
      kafka: {
        image: IMAGES.kafka,
        hostname: 'kafka',
        environment: {
          KAFKA_NODE_ID: '1',
          KAFKA_PROCESS_ROLES: 'broker,controller',
          KAFKA_CONTROLLER_QUORUM_VOTERS: '1@kafka:9093',
          KAFKA_LISTENERS: 'INTERNAL://:19092,EXTERNAL://:9092,CONTROLLER://:9093',
          KAFKA_ADVERTISED_LISTENERS: `INTERNAL://${KAFKA_INTERNAL},EXTERNAL://localhost:9092`,
          KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT',
          KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
          KAFKA_INTER_BROKER_LISTENER_NAME: 'INTERNAL',
          KAFKA_LOG_DIRS: '/var/lib/kafka/data',
          KAFKA_NUM_PARTITIONS: String(topicPartitions),
          KAFKA_LOG_RETENTION_MS: String(topicRetentionMs),
          KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
          KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
          KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
          KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
          KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR: '1',
          KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR: '1',
          KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
        },
        ports: ['9092:9092'],
        volumes: ['kafka-data:/var/lib/kafka/data'],
        healthcheck: health(['CMD', '/opt/kafka/bin/kafka-broker-api-versions.sh', '--bootstrap-server', 'localhost:19092']),
        restart: 'unless-stopped',
      },
      'kafka-init': {
        image: IMAGES.kafka,
        entrypoint: ['/bin/sh', '-c'],
        command: [createTopicsScript()],
        depends_on: { kafka: { condition: 'service_healthy' } },
        restart: 'no',
      },
      kafdrop: {
        image: IMAGES.kafdrop,
        environment: { KAFKA_BROKERCONNECT: KAFKA_INTERNAL, SERVER_PORT: '9000' },
        ports: ['9000:9000'],
        depends_on: { kafka: { condition: 'service_healthy' } },
        restart: 'unless-stopped',
      },
      cassandra: {
        image: IMAGES.cassandra,
        environment: { CASSANDRA_CLUSTER_NAME: 'tickstream', CASSANDRA_DC: 'datacenter1', MAX_HEAP_SIZE: '1G', HEAP_NEWSIZE: '256M' },
        ports: ['9042:9042'],
        volumes: ['cassandra-data:/var/lib/cassandra'],
        healthcheck: health(['CMD', 'cqlsh', '-e', 'SELECT release_version FROM system.local'], '90s', 30),
        restart: 'unless-stopped',
      },
      // The Spark job's checkpoints live under /data/spark, written by the Connect driver and
      // the executors (uid 185) and read by the processor (uid 1000): one volume, open to both.
      'data-init': {
        image: IMAGES.tickstream,
        build: { context: '..', dockerfile: 'Dockerfile' },
        user: '0',
        entrypoint: ['/bin/sh', '-c'],
        command: ['mkdir -p /data/spark/checkpoints && chmod -R 1777 /data/spark'],
        volumes: ['pipeline-data:/data'],
        restart: 'no',
      },
      migrate: tickstream(['migrate'], {
        depends_on: { cassandra: { condition: 'service_healthy' } },
        restart: 'no',
      }),
      'spark-master': {
        image: IMAGES.spark,
        hostname: 'spark-master',
        command: ['/opt/spark/bin/spark-class', 'org.apache.spark.deploy.master.Master', '--host', 'spark-master', '--port', '7077', '--webui-port', '8080'],
        ports: ['8081:8080'],
        healthcheck: tcpCheck(8080),
        restart: 'unless-stopped',
      },
      'spark-worker-1': sparkWorker(1),
      'spark-worker-2': sparkWorker(2),
      'spark-connect': {
        image: IMAGES.spark,
        hostname: 'spark-connect',
        command: [
          '/opt/spark/sbin/start-connect-server.sh',
          '--packages',
          sparkPackages().join(','),
          ...sparkConf.flatMap(([k, v]) => ['--conf', `${k}=${v}`]),
        ],
        environment: { SPARK_NO_DAEMONIZE: 'true' },
        ports: ['15002:15002', '4040:4040'],
        volumes: ['pipeline-data:/data'],
        depends_on: {
          'spark-worker-1': { condition: 'service_healthy' },
          'spark-worker-2': { condition: 'service_healthy' },
          cassandra: { condition: 'service_healthy' },
        },
        // The first start downloads the packages above from Maven Central.
        healthcheck: health(['CMD', 'bash', '-c', 'exec 3<>/dev/tcp/127.0.0.1/15002'], '180s', 30),
        restart: 'unless-stopped',
      },
      producer: tickstream(['produce'], {
        environment: { FINNHUB_TOKEN: '${FINNHUB_TOKEN:-}', ...metricsPortEnv(), ...env({ host: '0.0.0.0' }) },
        depends_on: { 'kafka-init': { condition: 'service_completed_successfully' } },
        healthcheck: nodeHttpCheck(`http://127.0.0.1:${METRICS_PORT}/healthz`),
        restart: 'unless-stopped',
      }),
      // The processor runs in the Connect server's network namespace, so it reaches it at the
      // default spark.connectUrl (sc://127.0.0.1:15002).
      processor: tickstream(['process', '--engine', 'spark'], {
        network_mode: 'service:spark-connect',
        environment: { ...metricsPortEnv(), ...env({ host: '0.0.0.0' }) },
        volumes: ['pipeline-data:/data'],
        depends_on: {
          'spark-connect': { condition: 'service_healthy' },
          'kafka-init': { condition: 'service_completed_successfully' },
          migrate: { condition: 'service_completed_successfully' },
        },
        healthcheck: nodeHttpCheck(`http://127.0.0.1:${METRICS_PORT}/healthz`),
        restart: 'unless-stopped',
      }),
      dashboard: tickstream(['serve'], {
        environment: env({ host: '0.0.0.0', port: '8080' }),
        ports: ['8080:8080'],
        depends_on: { migrate: { condition: 'service_completed_successfully' } },
        healthcheck: nodeHttpCheck('http://127.0.0.1:8080/api/stats'),
        restart: 'unless-stopped',
      }),
      prometheus: {
        image: IMAGES.prometheus,
        command: ['--config.file=/etc/prometheus/prometheus.yml', '--storage.tsdb.path=/prometheus', '--storage.tsdb.retention.time=7d'],
        ports: ['9090:9090'],
        volumes: ['./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro', 'prometheus-data:/prometheus'],
        healthcheck: health(['CMD', 'wget', '-q', '-O', '-', 'http://127.0.0.1:9090/-/healthy'], '10s'),
        restart: 'unless-stopped',
      },
      grafana: {
        image: IMAGES.grafana,
        environment: {
          GF_INSTALL_PLUGINS: `${PINNED.cassandraPlugin.id} ${PINNED.cassandraPlugin.version}`,
          GF_SECURITY_ADMIN_USER: 'admin',
          GF_SECURITY_ADMIN_PASSWORD: '${GRAFANA_ADMIN_PASSWORD:-admin}',
          GF_AUTH_ANONYMOUS_ENABLED: 'true',
          GF_AUTH_ANONYMOUS_ORG_ROLE: 'Viewer',
          GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH: '/var/lib/grafana/dashboards/market.json',
        },
        ports: ['3000:3000'],
        volumes: [
          './grafana/provisioning:/etc/grafana/provisioning:ro',
          './grafana/dashboards:/var/lib/grafana/dashboards:ro',
          'grafana-data:/var/lib/grafana',
        ],
        depends_on: { cassandra: { condition: 'service_healthy' }, prometheus: { condition: 'service_healthy' } },
        healthcheck: health(['CMD', 'wget', '-q', '-O', '-', 'http://127.0.0.1:3000/api/health'], '60s'),
        restart: 'unless-stopped',
      },
    },
    volumes: { 'kafka-data': {}, 'cassandra-data': {}, 'pipeline-data': {}, 'prometheus-data': {}, 'grafana-data': {} },
  };
}

/** Where Prometheus scrapes each role: the dashboard's own server, and the listeners of the others. */
export function scrapeTargets(): Record<string, string> {
  return {
    producer: `producer:${METRICS_PORT}`,
    // The processor shares the Connect server's network namespace (see the compose file).
    processor: `spark-connect:${METRICS_PORT}`,
    dashboard: 'dashboard:8080',
  };
}

export function renderPrometheus(): string {
  const jobs = Object.entries(scrapeTargets())
    .map(([job, target]) => `  - job_name: ${job}\n    metrics_path: /metrics\n    static_configs:\n      - targets: [${JSON.stringify(target)}]\n`)
    .join('');
  return `# Generated by scripts/deploy.ts; edit that file and run \`npm run deploy:generate\`.\nglobal:\n  scrape_interval: 5s\n  evaluation_interval: 15s\nscrape_configs:\n${jobs}`;
}

const PLAIN_KEY = /^[A-Za-z0-9_.-]+$/;

/** YAML for plain data: maps, lists, strings (always double-quoted, JSON escapes are valid YAML), numbers. */
export function toYaml(value: unknown, indent = 0): string {
  const pad = ' '.repeat(indent);
  if (Array.isArray(value)) {
    if (value.length === 0) return ' []\n';
    return `\n${value.map((v) => `${pad}-${toYaml(v, indent + 2).replace(/^\n\s*/, ' ')}`).join('')}`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return ' {}\n';
    return `\n${entries.map(([k, v]) => `${pad}${PLAIN_KEY.test(k) ? k : JSON.stringify(k)}:${toYaml(v, indent + 2)}`).join('')}`;
  }
  if (typeof value === 'number' || typeof value === 'boolean') return ` ${String(value)}\n`;
  return ` ${JSON.stringify(String(value))}\n`;
}

export function renderCompose(model: ComposeFile = composeModel()): string {
  return `# Generated by scripts/deploy.ts from src/stack/versions.ts; edit those and run \`npm run deploy:generate\`.
# Not exercised by CI: a test checks this file offline (test/deploy/compose.test.ts).${toYaml(model).replace(/^\n/, '\n')}`;
}

export const GENERATED: readonly GeneratedFile[] = [
  { path: COMPOSE_PATH, render: () => renderCompose() },
  { path: PROMETHEUS_PATH, render: renderPrometheus },
];

export interface GeneratedFile {
  readonly path: string;
  readonly render: () => string;
}

/** Writes each file whose text changed; with `check`, writes nothing and reports the stale ones instead. Returns how many were stale. */
export function writeGenerated(files: readonly GeneratedFile[], check: boolean, what: string): number {
  let stale = 0;
  for (const { path, render } of files) {
    const text = render();
    let before: string | undefined;
    try {
      before = readFileSync(path, 'utf8');
    } catch {
      before = undefined;
    }
    if (before === text) continue;
    stale++;
    if (check) {
      process.stdout.write(`stale: ${path}\n`);
    } else {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
      process.stdout.write(`wrote ${path}\n`);
    }
  }
  if (stale === 0) process.stdout.write(`${what} files are up to date\n`);
  return stale;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const check = process.argv.includes('--check');
  if (writeGenerated(GENERATED, check, 'deploy') > 0 && check) process.exitCode = 1;
}
