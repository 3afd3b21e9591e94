import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../config/index.ts';
import { StackStartError } from '../../errors.ts';
import { probeCassandra, type Endpoint } from '../health.ts';
import { writeIfChanged } from '../process.ts';
import { LOOPBACK, portOf, type ProcessLaunch, type ServiceContext, type ServiceDefinition } from '../service.ts';
import { CASSANDRA_RELEASE } from '../versions.ts';

const MAIN_CLASS = 'org.apache.cassandra.service.CassandraDaemon';
/**
 * Inter-node port: one node only, but Cassandra binds it anyway. 7000 beside the default CQL
 * port; the CQL port + 1 otherwise, so that a second stack on other ports does not collide.
 */
export function storagePortFor(nativePort: number): number {
  return nativePort === 9042 ? 7000 : nativePort + 1;
}

export interface CassandraSettings {
  readonly nativePort: number;
  readonly storagePort: number;
  /** Parent of data, commitlog, hints, saved_caches and cdc_raw. */
  readonly dataDir: string;
}

export function cassandraSettings(config: Config, dir: string): CassandraSettings {
  const nativePort = portOf(config.cassandra.contactPoints[0], 9042);
  return { nativePort, storagePort: storagePortFor(nativePort), dataDir: join(dir, 'data') };
}

const yamlString = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/**
 * A minimal single-node cassandra.yaml for 5.0 (its loader rejects unknown keys, so every key
 * here exists in 5.0's Config). Small memtables and few threads suit a 2-core machine.
 *
 * Memtables are tries (5.0's TrieMemtable, through the `memtable` configurations; a table that
 * names none gets `default`) with their data off the heap (offheap_objects): on the store
 * benchmark this cut the Cassandra JVM's CPU per trade written by about a quarter against
 * skip lists on heap_buffers (src/stack/README.md). Durability is unchanged: the commit log
 * still syncs periodically, every 10 s.
 */
export function renderCassandraYaml(s: CassandraSettings): string {
  const d = (name: string): string => yamlString(join(s.dataDir, name));
  return `# Written by tickstream stack; edits are overwritten on the next \`stack up\`.
cluster_name: 'tickstream'
num_tokens: 16
allocate_tokens_for_local_replication_factor: 1
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
listen_address: ${LOOPBACK}
rpc_address: ${LOOPBACK}
storage_port: ${s.storagePort}
native_transport_port: ${s.nativePort}
start_native_transport: true
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "${LOOPBACK}:${s.storagePort}"
data_file_directories: [${d('data')}]
commitlog_directory: ${d('commitlog')}
saved_caches_directory: ${d('saved_caches')}
hints_directory: ${d('hints')}
cdc_raw_directory: ${d('cdc_raw')}
commitlog_sync: periodic
commitlog_sync_period: 10s
commitlog_segment_size: 8MiB
auto_snapshot: false
memtable_heap_space: 128MiB
memtable_offheap_space: 256MiB
memtable_allocation_type: offheap_objects
memtable:
  configurations:
    skiplist:
      class_name: SkipListMemtable
    trie:
      class_name: TrieMemtable
    default:
      inherits: trie
concurrent_reads: 8
concurrent_writes: 16
concurrent_counter_writes: 8
concurrent_compactors: 1
disk_access_mode: standard
authenticator: AllowAllAuthenticator
authorizer: AllowAllAuthorizer
`;
}

/** INFO to stdout only (the daemon's stdout is the stack log); without a config logback prints DEBUG. */
export function renderLogback(): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by tickstream stack. -->
<configuration scan="false">
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="STDOUT"/></root>
</configuration>
`;
}

/** Cassandra's conf/jvm17-server.options: the module openings its internals need on Java 17. */
export const CASSANDRA_JAVA17_OPTIONS: readonly string[] = [
  '-Djdk.attach.allowAttachSelf=true',
  '-Dio.netty.tryReflectionSetAccessible=true',
  '-Dio.netty.allocator.useCacheForAllThreads=true',
  '-Dio.netty.allocator.maxOrder=11',
  ...[
    'java.base/jdk.internal.misc',
    'java.management.rmi/com.sun.jmx.remote.internal.rmi',
    'java.rmi/sun.rmi.registry',
    'java.rmi/sun.rmi.server',
    'java.sql/java.sql',
    'java.base/java.lang.ref',
    'jdk.unsupported/sun.misc',
  ].flatMap((p) => ['--add-exports', `${p}=ALL-UNNAMED`]),
  ...[
    'java.base/java.lang.module',
    'java.base/jdk.internal.loader',
    'java.base/jdk.internal.ref',
    'java.base/jdk.internal.reflect',
    'java.base/jdk.internal.math',
    'java.base/jdk.internal.module',
    'java.base/jdk.internal.util.jar',
    'jdk.management/com.sun.management.internal',
    'java.base/sun.nio.ch',
    'java.base/java.io',
    'java.base/java.nio',
    'java.base/java.util.concurrent',
    'java.base/java.util',
    'java.base/java.util.concurrent.atomic',
    'java.base/java.lang',
    'java.base/java.math',
    'java.base/java.lang.reflect',
    'java.base/java.net',
  ].flatMap((p) => ['--add-opens', `${p}=ALL-UNNAMED`]),
];

/** A fixed 1 GiB heap: Cassandra's own sizing would take about 6 GiB of a 24 GiB machine. */
export const CASSANDRA_HEAP_OPTIONS: readonly string[] = ['-Xms1g', '-Xmx1g', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=300', '-XX:+ParallelRefProcEnabled', '-XX:+ExitOnOutOfMemoryError'];

export interface CassandraCommandInput {
  readonly dir: string;
  readonly libDir: string;
  readonly jammJar: string;
}

/** Everything after `java`. The system properties replace what bin/cassandra would set. */
export function cassandraJvmArgs(input: CassandraCommandInput): readonly string[] {
  const conf = join(input.dir, 'conf');
  return [
    ...CASSANDRA_HEAP_OPTIONS,
    ...CASSANDRA_JAVA17_OPTIONS,
    `-javaagent:${input.jammJar}`,
    `-Dcassandra.config=file://${join(conf, 'cassandra.yaml')}`,
    '-Dcassandra-foreground=yes',
    `-Dcassandra.storagedir=${join(input.dir, 'data')}`,
    `-Dcassandra.logdir=${join(input.dir, 'logs')}`,
    `-Dcassandra.triggers_dir=${join(input.dir, 'triggers')}`,
    `-Dlogback.configurationFile=file://${join(conf, 'logback.xml')}`,
    // A single node has no one to gossip with: skip the waits that exist for real rings (30 s otherwise).
    '-Dcassandra.skip_wait_for_gossip_to_settle=0',
    '-Dcassandra.ring_delay_ms=1000',
    '-cp',
    `${conf}:${join(input.libDir, '*')}`,
    MAIN_CLASS,
  ];
}

function findJamm(libDir: string): string {
  const jar = readdirSync(libDir).find((f) => /^jamm-[\d.]+\.jar$/.test(f));
  if (jar === undefined) throw new StackStartError(`cassandra: no jamm jar in ${libDir}; delete that directory so that the next \`stack up\` fetches it again`);
  return join(libDir, jar);
}

async function prepare(context: ServiceContext): Promise<ProcessLaunch> {
  const { dir } = context.paths;
  const settings = cassandraSettings(context.config, dir);
  const conf = join(dir, 'conf');
  mkdirSync(conf, { recursive: true });
  for (const sub of ['logs', 'triggers']) mkdirSync(join(dir, sub), { recursive: true });
  for (const sub of ['data', 'commitlog', 'saved_caches', 'hints', 'cdc_raw']) mkdirSync(join(settings.dataDir, sub), { recursive: true });
  writeIfChanged(join(conf, 'cassandra.yaml'), renderCassandraYaml(settings));
  writeIfChanged(join(conf, 'logback.xml'), renderLogback());
  return { args: cassandraJvmArgs({ dir, libDir: context.libDir, jammJar: findJamm(context.libDir) }) };
}

function endpoints(config: Config): readonly Endpoint[] {
  const nativePort = portOf(config.cassandra.contactPoints[0], 9042);
  return [
    { host: LOOPBACK, port: nativePort, key: 'cassandra.contactPoints', role: 'CQL port' },
    {
      host: LOOPBACK,
      port: storagePortFor(nativePort),
      key: 'cassandra.contactPoints',
      role: 'storage port',
      rule: nativePort === 9042 ? '7000 beside the default CQL port 9042; any other CQL port puts it on that port + 1' : 'the CQL port of cassandra.contactPoints + 1',
    },
  ];
}

export const cassandraService: ServiceDefinition = {
  name: 'cassandra',
  release: CASSANDRA_RELEASE,
  processes: [
    {
      name: 'cassandra',
      mainClass: MAIN_CLASS,
      startTimeoutMs: 180_000,
      stopGraceMs: 45_000,
      endpoints,
      prepare,
      async probe(config) {
        const [client] = endpoints(config);
        const version = client === undefined ? undefined : await probeCassandra(client, config.cassandra.localDataCenter);
        return version === undefined ? undefined : `release ${version}`;
      },
    },
  ],
};
