import { lstatSync, mkdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config, ConfigKey } from '../../config/index.ts';
import { DEFAULT_SPARK_CONNECT_PORT, parseConnectionString } from '../../spark/index.ts';
import type { Endpoint } from '../health.ts';
import type { Env } from '../prerequisites.ts';
import { readRange, servicePaths, writeIfChanged } from '../process.ts';
import { LOOPBACK, portOf, type ProcessLaunch, type ServiceContext, type ServiceDefinition, type StackProcess } from '../service.ts';
import { SPARK_RELEASE, SPARK_SCALA_BINARY_VERSION } from '../versions.ts';
import { aliveWorkers, callConnectConfig, describeMaster, fetchMasterState } from './spark-health.ts';

export const SPARK_MASTER_CLASS = 'org.apache.spark.deploy.master.Master';
export const SPARK_WORKER_CLASS = 'org.apache.spark.deploy.worker.Worker';
export const SPARK_CONNECT_CLASS = 'org.apache.spark.sql.connect.service.SparkConnectServer';

export interface SparkWorkerSettings {
  /** `spark-worker-1`, … */
  readonly name: string;
  readonly port: number;
  readonly uiPort: number;
  readonly cores: number;
  readonly memoryMb: number;
  readonly dir: string;
}

/**
 * Sized for a 2-core / 24 GiB machine: two workers of one core each, so that the Connect
 * application gets one executor on each; 2 GiB per worker, all of it for that executor.
 * Daemons are small; the driver gets room for query progress and collected results.
 */
export const SPARK_SIZING = {
  workers: 2,
  workerCores: 1,
  workerMemoryMb: 2048,
  executorMemoryMb: 2048,
  daemonHeapMb: 512,
  driverHeapMb: 2048,
  /** Two cores: a few shuffle partitions, not Spark's 200. Fixed for a query at its first checkpoint. */
  shufflePartitions: 4,
} as const;

export interface SparkSettings {
  /** `<dataDir>/stack/spark`: the home, the conf and each process's directory. */
  readonly root: string;
  /** The Spark home workers launch executors from: `jars/` (the fetched classpath) and `conf/`. */
  readonly home: string;
  /** `spark.masterPort` (7077 by default); worker N listens on the master's port + N. */
  readonly masterPort: number;
  /** `spark.masterUiPort` (8081 by default); worker N's UI is on the master's UI port + N. */
  readonly masterUiPort: number;
  /** The port of `spark.connectUrl` (15002 by default); the stack ignores the URL's host. */
  readonly connectPort: number;
  /** `spark.uiPort` (4040 by default): the Connect server's driver UI; when it is taken, Spark moves to the next free port itself. */
  readonly uiPort: number;
  readonly masterUrl: string;
  readonly workers: readonly SparkWorkerSettings[];
  readonly cassandraHost: string;
  readonly cassandraPort: number;
  readonly cassandraDataCenter: string;
}

/** `127.0.0.1:9042` → `127.0.0.1`; a bare host stays as it is. */
const hostOf = (hostPort: string | undefined): string => (hostPort === undefined || hostPort === '' ? LOOPBACK : hostPort.replace(/:\d{1,5}$/, ''));

/** `sc://host:15003/;token=…` → 15003, read as the Spark Connect client reads it; no port → 15002. */
const connectPortOf = (connectUrl: string): number => portOf(parseConnectionString(connectUrl).address, DEFAULT_SPARK_CONNECT_PORT);

export function sparkSettings(config: Config): SparkSettings {
  const root = join(resolve(config.dataDir), 'stack', 'spark');
  const contactPoint = config.cassandra.contactPoints[0];
  const { masterPort, masterUiPort, uiPort } = config.spark;
  return {
    root,
    home: join(root, 'home'),
    masterPort,
    masterUiPort,
    connectPort: connectPortOf(config.spark.connectUrl),
    uiPort,
    masterUrl: `spark://${LOOPBACK}:${masterPort}`,
    workers: Array.from({ length: SPARK_SIZING.workers }, (_, i) => ({
      name: `spark-worker-${i + 1}`,
      port: masterPort + 1 + i,
      uiPort: masterUiPort + 1 + i,
      cores: SPARK_SIZING.workerCores,
      memoryMb: SPARK_SIZING.workerMemoryMb,
      dir: join(root, `worker-${i + 1}`),
    })),
    cassandraHost: hostOf(contactPoint),
    cassandraPort: portOf(contactPoint, 9042),
    cassandraDataCenter: config.cassandra.localDataCenter,
  };
}

/**
 * Spark 3.5's JavaModuleOptions: what its launcher adds to every JVM on Java 17. The driver adds
 * the same list to its executors itself.
 */
export const SPARK_JAVA17_OPTIONS: readonly string[] = [
  '-XX:+IgnoreUnrecognizedVMOptions',
  ...[
    'java.base/java.lang',
    'java.base/java.lang.invoke',
    'java.base/java.lang.reflect',
    'java.base/java.io',
    'java.base/java.net',
    'java.base/java.nio',
    'java.base/java.util',
    'java.base/java.util.concurrent',
    'java.base/java.util.concurrent.atomic',
    'java.base/jdk.internal.ref',
    'java.base/sun.nio.ch',
    'java.base/sun.nio.cs',
    'java.base/sun.security.action',
    'java.base/sun.util.calendar',
    'java.security.jgss/sun.security.krb5',
  ].map((p) => `--add-opens=${p}=ALL-UNNAMED`),
  '-Djdk.reflect.useDirectMethodHandle=false',
];

/**
 * The variables Spark's scripts would set. Workers need SPARK_HOME (executors are launched
 * from its jars/) and SPARK_SCALA_VERSION (else the launcher looks for a source build and fails);
 * SPARK_LOCAL_IP keeps every listener, the web UIs included, on loopback.
 */
export function sparkEnvironment(s: SparkSettings): Env {
  return {
    SPARK_HOME: s.home,
    SPARK_CONF_DIR: join(s.home, 'conf'),
    SPARK_SCALA_VERSION: SPARK_SCALA_BINARY_VERSION,
    SPARK_LOCAL_IP: LOOPBACK,
    SPARK_LOCAL_HOSTNAME: LOOPBACK,
  };
}

/** The classpath of every Spark JVM, as Spark's launcher builds it: conf first (log4j2.properties), then jars. */
export function sparkClasspath(home: string): string {
  return `${join(home, 'conf')}:${join(home, 'jars', '*')}`;
}

const heap = (mb: number): string[] => [`-Xms${Math.min(mb, 512)}m`, `-Xmx${mb}m`];
const COMMON_JVM = ['-XX:+UseG1GC', '-XX:+ExitOnOutOfMemoryError', '-Djava.awt.headless=true'];

export function masterArgs(s: SparkSettings): readonly string[] {
  return [
    ...heap(SPARK_SIZING.daemonHeapMb),
    ...COMMON_JVM,
    ...SPARK_JAVA17_OPTIONS,
    '-cp',
    sparkClasspath(s.home),
    SPARK_MASTER_CLASS,
    '--host',
    LOOPBACK,
    '--port',
    String(s.masterPort),
    '--webui-port',
    String(s.masterUiPort),
  ];
}

export function workerArgs(s: SparkSettings, w: SparkWorkerSettings): readonly string[] {
  return [
    ...heap(SPARK_SIZING.daemonHeapMb),
    ...COMMON_JVM,
    ...SPARK_JAVA17_OPTIONS,
    // Finished applications' directories (executor logs, fetched files) go after a day.
    '-Dspark.worker.cleanup.enabled=true',
    '-Dspark.worker.cleanup.appDataTtl=86400',
    '-cp',
    sparkClasspath(s.home),
    SPARK_WORKER_CLASS,
    '--host',
    LOOPBACK,
    '--port',
    String(w.port),
    '--webui-port',
    String(w.uiPort),
    '--cores',
    String(w.cores),
    '--memory',
    `${w.memoryMb}m`,
    '--work-dir',
    join(w.dir, 'work'),
    s.masterUrl,
  ];
}

/**
 * The Connect server's Spark settings. It is the driver of one long-lived application on the
 * cluster, whose sessions (one per client) run the streaming queries.
 */
export function connectConf(s: SparkSettings): ReadonlyArray<readonly [string, string]> {
  return [
    ['spark.master', s.masterUrl],
    ['spark.app.name', 'Spark Connect server'],
    ['spark.driver.host', LOOPBACK],
    ['spark.driver.bindAddress', LOOPBACK],
    ['spark.ui.port', String(s.uiPort)],
    ['spark.connect.grpc.binding.port', String(s.connectPort)],
    ['spark.executor.cores', String(SPARK_SIZING.workerCores)],
    ['spark.executor.memory', `${SPARK_SIZING.executorMemoryMb}m`],
    ['spark.cores.max', String(SPARK_SIZING.workers * SPARK_SIZING.workerCores)],
    ['spark.sql.shuffle.partitions', String(SPARK_SIZING.shufflePartitions)],
    ['spark.sql.session.timeZone', 'UTC'],
    ['spark.sql.extensions', 'com.datastax.spark.connector.CassandraSparkExtensions'],
    ['spark.sql.catalog.cassandra', 'com.datastax.spark.connector.datasource.CassandraCatalog'],
    ['spark.cassandra.connection.host', s.cassandraHost],
    ['spark.cassandra.connection.port', String(s.cassandraPort)],
    ['spark.cassandra.connection.localDC', s.cassandraDataCenter],
  ];
}

/**
 * Started as a plain JVM rather than through spark-submit: SparkConf reads `spark.*` system
 * properties, and the classpath already holds the Connect server and every connector.
 */
export function connectArgs(s: SparkSettings): readonly string[] {
  return [
    ...heap(SPARK_SIZING.driverHeapMb),
    ...COMMON_JVM,
    ...SPARK_JAVA17_OPTIONS,
    ...connectConf(s).map(([k, v]) => `-D${k}=${v}`),
    '-cp',
    sparkClasspath(s.home),
    SPARK_CONNECT_CLASS,
  ];
}

/**
 * Log4j 2 for every Spark JVM (executors find it first on their classpath, via SPARK_CONF_DIR):
 * INFO to stdout, which is the log file, with the per-batch chatter of Kafka's consumer and
 * the block manager turned down.
 */
export function renderSparkLog4j2(): string {
  return `# Written by tickstream stack; edits are overwritten on the next \`stack up\`.
rootLogger.level = info
rootLogger.appenderRef.stdout.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_OUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yyyy-MM-dd HH:mm:ss.SSS} %p %c{1}: %m%n%ex
logger.jetty.name = org.sparkproject.jetty
logger.jetty.level = warn
logger.blockmanager.name = org.apache.spark.storage.BlockManagerInfo
logger.blockmanager.level = warn
logger.kafka.name = org.apache.kafka
logger.kafka.level = warn
logger.cassandradriver.name = com.datastax.oss.driver
logger.cassandradriver.level = warn
logger.codegen.name = org.apache.spark.sql.catalyst.expressions.codegen.CodeGenerator
logger.codegen.level = warn
`;
}

/**
 * Makes `home` a Spark home: `jars` links to the fetched classpath (a link, so a new fetch is
 * seen at once and nothing is copied), `conf/` holds the logging config.
 */
export function assembleSparkHome(home: string, libDir: string): void {
  mkdirSync(join(home, 'conf'), { recursive: true });
  const jars = join(home, 'jars');
  let current: string | undefined;
  try {
    current = lstatSync(jars).isSymbolicLink() ? readlinkSync(jars) : 'not a link';
  } catch {
    current = undefined;
  }
  if (current !== libDir) {
    if (current !== undefined) rmSync(jars, { recursive: true, force: true });
    symlinkSync(libDir, jars, 'dir');
  }
  writeIfChanged(join(home, 'conf', 'log4j2.properties'), renderSparkLog4j2());
}

/** Every Spark process prepares the same home (cheap and idempotent), then its own directories. */
function launch(context: ServiceContext, dirs: readonly string[], args: (s: SparkSettings) => readonly string[]): Promise<ProcessLaunch> {
  const settings = sparkSettings(context.config);
  assembleSparkHome(settings.home, context.libDir);
  for (const dir of [context.paths.dir, ...dirs]) mkdirSync(dir, { recursive: true });
  return Promise.resolve({ args: args(settings), env: sparkEnvironment(settings) });
}

const loopback = (port: number, key: ConfigKey, role: string, rule?: string): Endpoint => ({ host: LOOPBACK, port, key, role, ...(rule === undefined ? {} : { rule }) });
const masterUiOf = (config: Config): Endpoint => loopback(sparkSettings(config).masterUiPort, 'spark.masterUiPort', 'web UI');

const master: StackProcess = {
  name: 'spark-master',
  mainClass: SPARK_MASTER_CLASS,
  startTimeoutMs: 60_000,
  stopGraceMs: 20_000,
  endpoints: (config) => [loopback(sparkSettings(config).masterPort, 'spark.masterPort', 'RPC port'), masterUiOf(config)],
  prepare: (context) => launch(context, [], masterArgs),
  async probe(config) {
    const state = await fetchMasterState(masterUiOf(config));
    return state?.status === 'ALIVE' ? describeMaster(state, SPARK_SIZING.workers) : undefined;
  },
};

function workerProcess(index: number): StackProcess {
  const settingsOf = (config: Config): SparkWorkerSettings => {
    const w = sparkSettings(config).workers[index];
    if (w === undefined) throw new RangeError(`no Spark worker ${index + 1}`);
    return w;
  };
  return {
    name: `spark-worker-${index + 1}`,
    mainClass: SPARK_WORKER_CLASS,
    startTimeoutMs: 60_000,
    stopGraceMs: 30_000,
    // The workers take the ports after the master's.
    endpoints: (config) => [
      loopback(settingsOf(config).port, 'spark.masterPort', 'RPC port', `spark.masterPort + ${index + 1}`),
      loopback(settingsOf(config).uiPort, 'spark.masterUiPort', 'web UI', `spark.masterUiPort + ${index + 1}`),
    ],
    prepare: (context) => {
      const w = settingsOf(context.config);
      const local = join(w.dir, 'local');
      return launch(context, [join(w.dir, 'work'), local], (s) => workerArgs(s, w)).then((l) => ({
        args: l.args,
        // Executors inherit the worker's environment: their scratch space stays under the data dir.
        env: { ...l.env, SPARK_LOCAL_DIRS: local },
      }));
    },
    /** Healthy once the master lists it as ALIVE: a worker that runs but never registered is of no use. */
    async probe(config) {
      const w = settingsOf(config);
      const state = await fetchMasterState(masterUiOf(config));
      const me = state === undefined ? undefined : aliveWorkers(state).find((x) => x.port === w.port);
      return me === undefined ? undefined : `registered with ${state?.url ?? 'the master'}, ${me.coresUsed} of ${me.cores} cores used, ${me.memoryUsedMb} of ${me.memoryMb} MiB used`;
    },
  };
}

const connectEndpointOf = (config: Config): Endpoint => loopback(sparkSettings(config).connectPort, 'spark.connectUrl', 'Spark Connect port');
const connectLogOf = (config: Config): string => servicePaths(resolve(config.dataDir), connect.name, sparkService.name).logFile;
const driverUiOf = (config: Config): Endpoint => ({
  ...loopback(sparkSettings(config).uiPort, 'spark.uiPort', 'driver web UI'),
  boundPort: () => driverUiPort(connectLogOf(config)),
});

/** What Spark logs once a UI is bound: on its port or, when that was taken, on one after it. */
const UI_BOUND = /Successfully started service 'SparkUI' on port (\d+)\./g;

/** The Connect server's driver UI port, read from the start of its current log; undefined until Spark has bound it. */
export function driverUiPort(logFile: string): number | undefined {
  let head: string;
  try {
    head = readRange(logFile, 0, 1 << 20);
  } catch {
    return undefined;
  }
  const bound = [...head.matchAll(UI_BOUND)].at(-1);
  return bound === undefined ? undefined : Number(bound[1]);
}

/**
 * Waits for a real gRPC answer: Config.GetOption asking the server which master and Cassandra it
 * uses. `ui` is its driver UI: the port configured and, asked only once the server answered, the
 * port it bound when known.
 */
export async function probeConnect(endpoint: Endpoint, ui: Endpoint): Promise<string | undefined> {
  const pairs = await callConnectConfig(endpoint, ['spark.master', 'spark.cassandra.connection.host', 'spark.cassandra.connection.port']);
  if (pairs === undefined) return undefined;
  const cassandra = `${pairs.get('spark.cassandra.connection.host') ?? '?'}:${pairs.get('spark.cassandra.connection.port') ?? '?'}`;
  const bound = ui.boundPort?.();
  const shown = bound === undefined ? `${ui.port} (or the next free port)` : String(bound);
  return `sc://${endpoint.host}:${endpoint.port} answers; master ${pairs.get('spark.master') ?? '?'}, cassandra ${cassandra}, UI http://${LOOPBACK}:${shown}`;
}

const connect: StackProcess = {
  name: 'spark-connect',
  mainClass: SPARK_CONNECT_CLASS,
  startTimeoutMs: 120_000,
  stopGraceMs: 30_000,
  endpoints: (config) => [connectEndpointOf(config), driverUiOf(config)],
  prepare: async (context) => {
    const local = join(context.paths.dir, 'local');
    const l = await launch(context, [local], connectArgs);
    // The driver's scratch space (spark.local.dir would do, but Spark warns that standalone overrides it).
    return { args: l.args, env: { ...l.env, SPARK_LOCAL_DIRS: local } };
  },
  // The log is read only once the server answers, not at every poll while it starts.
  probe: (config) => probeConnect(connectEndpointOf(config), driverUiOf(config)),
  // Spark 3.5's Connect server takes a port but no bind address (that came in Spark 4.0).
  afterHealthy: async (config, progress) => {
    progress(`warning: spark-connect listens on port ${sparkSettings(config).connectPort} of every interface, without authentication (Spark 3.5 has no bind address for it); on an untrusted network, firewall the port`);
  },
};

/** A standalone cluster: the master, two workers, and a Spark Connect server as its one application. */
export const sparkService: ServiceDefinition = {
  name: 'spark',
  release: SPARK_RELEASE,
  processes: [master, ...Array.from({ length: SPARK_SIZING.workers }, (_, i) => workerProcess(i)), connect],
};

/** `sc://127.0.0.1:15002` by default: where a Spark Connect client finds the stack's server. */
export function stackConnectUrl(config: Config): string {
  return `sc://${LOOPBACK}:${sparkSettings(config).connectPort}`;
}
