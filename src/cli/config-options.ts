import { Option, type Command } from 'commander';
import { CONFIG_FIELDS, flagName, loadConfig, type Config, type ConfigKey } from '../config/index.ts';
import type { Logger } from '../observability/index.ts';

/** Config keys every pipeline role takes. */
export const PIPELINE_KEYS: readonly ConfigKey[] = [
  'profile',
  'source',
  'symbols',
  'dataDir',
  'host',
  'port',
  'intervals',
  'lateness',
  'flushInterval',
  'partitions',
  'logCapacity',
  'statusInterval',
  'logLevel',
  'finnhub.url',
  'simulator.port',
  'simulator.rate',
  'simulator.seed',
  'simulator.disorder',
  'simulator.batch',
  'replay.file',
  'replay.speed',
];

/** Keys of the cluster profile: Kafka, Cassandra, the engine and store choice. */
export const CLUSTER_KEYS: readonly ConfigKey[] = [
  'engine',
  'store',
  'metricsPort',
  'kafka.brokers',
  'kafka.clientId',
  'kafka.groupId',
  'kafka.topic',
  'kafka.format',
  'kafka.compression',
  'kafka.spoolLimit',
  'kafka.topicPartitions',
  'kafka.retention',
  'cassandra.contactPoints',
  'cassandra.localDataCenter',
  'cassandra.keyspace',
  'cassandra.replication',
  'cassandra.concurrency',
  'spark.connectUrl',
  'spark.maxOffsetsPerTrigger',
];

const camel = (flag: string): string => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * Adds a `--flag <value>` per config key (secrets excepted: they come from the
 * environment or the file, never the command line, where `ps` would show them).
 * `unlisted` keys are taken but left out of --help: settings this command does not read, which
 * a script passing one set of flags to every role may still give.
 */
export function addConfigOptions(
  cmd: Command,
  keys: readonly ConfigKey[],
  unlisted: readonly ConfigKey[] = [],
  /** Where a setting means something narrower on this command than the key's description says. */
  descriptions: Partial<Record<ConfigKey, string>> = {},
): Command {
  cmd.addOption(new Option('--config <file>', 'config file (default: ./tickstream.config.json if present)'));
  for (const key of keys) {
    const field = CONFIG_FIELDS[key];
    if (field.secret === true) continue;
    const shown = (field.show as (v: unknown) => string)(field.default);
    const option = new Option(`--${flagName(key)} <value>`, `${descriptions[key] ?? field.description} (default: ${shown})`);
    cmd.addOption(unlisted.includes(key) ? option.hideHelp() : option);
  }
  return cmd;
}

/**
 * Reads the command's flags into the config: defaults → file → env → flags. `command` names a
 * command that spells some flags its own way (COMMAND_FLAGS), so that errors name those.
 */
export function configFromOptions(
  options: Record<string, unknown>,
  keys: readonly ConfigKey[],
  overrides: Partial<Record<ConfigKey, string>> = {},
  command?: string,
  /** The flag an override was given with, for its errors to name (spark's --url). */
  flagNames: Partial<Record<ConfigKey, string>> = {},
): Config {
  const flags: Partial<Record<ConfigKey, string>> = {};
  for (const key of keys) {
    const value = options[camel(flagName(key))];
    if (typeof value === 'string') flags[key] = value;
  }
  const file = typeof options['config'] === 'string' ? options['config'] : undefined;
  return loadConfig({ flags: { ...flags, ...overrides }, env: process.env, file, flagNames, ...(command === undefined ? {} : { command }) });
}

/**
 * A replay file is replayed only with source=replay: `--replay-file` alone leaves the source at
 * auto (the simulator, or Finnhub with a token), which would otherwise run without a word about the file.
 */
export function warnUnreplayedFile(config: Config, logger: Logger): void {
  if (config.replay.file === undefined || config.source === 'replay') return;
  logger.warn(`replay.file ${config.replay.file} is not replayed: the source is ${config.source} (--source replay replays it, or tickstream replay <file>)`);
}
