import { Command } from 'commander';
import type { Roles } from '../app/index.ts';
import type { ConfigKey } from '../config/index.ts';
import { addConfigOptions, CLUSTER_KEYS, configFromOptions, PIPELINE_KEYS, warnUnreplayedFile } from './config-options.ts';
import { runUntilStopped, startUnlessStopped } from './signals.ts';
import { dashboardPart, webRoot } from './web-root.ts';

const SOURCE_KEYS: readonly ConfigKey[] = ['source', 'finnhub.url', 'simulator.port', 'simulator.rate', 'simulator.seed', 'simulator.disorder', 'simulator.batch', 'replay.file', 'replay.speed'];
/** The embedded profile's in-process log, which a role of its own never has. */
const LOG_KEYS: readonly ConfigKey[] = ['partitions', 'logCapacity'];
const ENGINE_KEYS: readonly ConfigKey[] = ['lateness', 'flushInterval', 'spark.connectUrl', 'spark.maxOffsetsPerTrigger'];
const STORE_KEYS: readonly ConfigKey[] = ['store', 'cassandra.contactPoints', 'cassandra.localDataCenter', 'cassandra.keyspace', 'cassandra.replication', 'cassandra.concurrency'];

/** What each role does not read: its --help leaves these out (see addConfigOptions). */
function unlistedFor(roles: Roles): ConfigKey[] {
  const out = new Set<ConfigKey>(LOG_KEYS);
  if (!roles.produce) for (const k of [...SOURCE_KEYS, 'kafka.spoolLimit'] as const) out.add(k);
  if (!roles.process) for (const k of ENGINE_KEYS) out.add(k);
  if (!roles.process && !roles.serve) for (const k of [...STORE_KEYS, 'engine', 'intervals', 'kafka.groupId'] as const) out.add(k);
  if (!roles.serve) out.add('port');
  else for (const k of ['metricsPort', 'kafka.format', 'kafka.compression', 'kafka.topicPartitions', 'kafka.retention'] as const) out.add(k);
  if (!roles.produce && !roles.serve) out.add('symbols');
  return [...out];
}

/** A command that runs some of the roles (`produce`, `process`, `serve`) until SIGINT/SIGTERM. */
export function roleCommand(name: string, description: string, roles: Roles, examples: string): Command {
  const keys = [...PIPELINE_KEYS, ...CLUSTER_KEYS];
  const cmd = new Command(name)
    .description(description)
    .addHelpText('after', `\nSettings this role does not read are taken but not listed (tickstream run --help\nlists them all).\n\nExamples:\n${examples}`);
  // A role without the dashboard listens only for /metrics, on --host.
  const descriptions: Partial<Record<ConfigKey, string>> = roles.serve ? {} : { host: 'address the /metrics listener (--metrics-port) binds to' };
  addConfigOptions(cmd, keys, unlistedFor(roles), descriptions).action(async (options: Record<string, unknown>) => {
    const config = configFromOptions(options, keys);
    const { createLogger } = await import('../observability/index.ts');
    const logger = createLogger({ level: config.logLevel });
    const root = webRoot();
    // A serve role of the cluster profile reads the pipeline's counts from Kafka, so it has a status line to print too.
    const statusLine = roles.produce || roles.process || config.profile === 'cluster';
    const set = await startUnlessStopped(async (stop) => {
      const { startRoles } = await import('../app/index.ts');
      return startRoles(config, roles, { logger, statusLine, webRoot: root, stop });
    });
    const parts = [
      `tickstream ${name} · ${config.profile} profile`,
      set.source === undefined ? undefined : `source ${set.source.kind}${set.simulatorUrl === undefined ? '' : ` at ${set.simulatorUrl}`}`,
      roles.produce || roles.process ? `log ${config.profile === 'cluster' ? `Kafka ${config.kafka.brokers.join(',')}` : 'in-process'}` : undefined,
      roles.process ? `engine ${config.engine} in group ${config.kafka.groupId}` : undefined,
      roles.serve && !roles.process && config.profile === 'cluster' ? `counts from Kafka ${config.kafka.brokers.join(',')}, group ${config.kafka.groupId}` : undefined,
      dashboardPart(set.url, root),
    ];
    logger.info(parts.filter((p) => p !== undefined).join(' · '));
    if (roles.produce) warnUnreplayedFile(config, logger);
    await runUntilStopped(set, logger, 'stopping');
  });
  return cmd;
}
