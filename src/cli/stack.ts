import { Argument, Command, InvalidArgumentError, Option } from 'commander';
import { parseInteger, type ConfigKey } from '../config/index.ts';
import type { ServiceTarget, StackOptions } from '../stack/index.ts';
import { PROCESS_NAMES, SERVICE_NAMES } from '../stack/service.ts';
import { addConfigOptions, configFromOptions } from './config-options.ts';
import { untilSignal } from './signals.ts';

/** The config keys the stack reads: where its state lives, its ports, and how topics are made. */
const STACK_KEYS: readonly ConfigKey[] = [
  'dataDir',
  'kafka.brokers',
  'kafka.topic',
  'kafka.topicPartitions',
  'kafka.retention',
  'cassandra.contactPoints',
  'cassandra.localDataCenter',
  'spark.masterPort',
  'spark.masterUiPort',
  'spark.uiPort',
  'spark.connectUrl',
];

function stackOptions(options: Record<string, unknown>): StackOptions {
  return { config: configFromOptions(options, STACK_KEYS), env: process.env, progress: (line) => process.stderr.write(`${line}\n`) };
}

const serviceArgument = (): Argument =>
  new Argument('[service]', 'which service').choices([...SERVICE_NAMES, 'all']).default('all');

/** Read only by `up`, which makes the topics; the other subcommands take them without listing them. */
const TOPIC_KEYS: readonly ConfigKey[] = ['kafka.topic', 'kafka.topicPartitions', 'kafka.retention'];

function sub(name: string, description: string): Command {
  return addConfigOptions(new Command(name).description(description), STACK_KEYS, name === 'up' ? [] : TOPIC_KEYS);
}

export function stackCommand(): Command {
  const up = sub('up', 'fetch (first time only), configure and start Kafka, Cassandra and/or Spark, and wait until they answer')
    .addArgument(serviceArgument())
    .action(async (service: ServiceTarget, options: Record<string, unknown>) => {
      const { stackUp } = await import('../stack/index.ts');
      await stackUp(service, stackOptions(options));
    });

  const down = sub('down', 'stop services started by `stack up` (SIGTERM, then SIGKILL after a grace period)')
    .addArgument(serviceArgument())
    .action(async (service: ServiceTarget, options: Record<string, unknown>) => {
      const { stackDown } = await import('../stack/index.ts');
      await stackDown(service, stackOptions(options));
    });

  const status = sub('status', 'show each service with its ports, pid, health and version')
    .addOption(new Option('--json', 'print JSON instead of a table'))
    .action(async (options: Record<string, unknown>) => {
      const { renderStatusTable, stackStatus } = await import('../stack/index.ts');
      const rows = await stackStatus(stackOptions(options));
      process.stdout.write(options['json'] === true ? `${JSON.stringify(rows, null, 2)}\n` : renderStatusTable(rows));
    });

  const logs = sub('logs', "print the last lines of a service's log")
    .addArgument(
      new Argument('<service>', 'a service, or one of its processes such as spark-connect').choices([
        ...SERVICE_NAMES,
        ...SERVICE_NAMES.flatMap((name) => PROCESS_NAMES[name]).filter((n) => !(SERVICE_NAMES as readonly string[]).includes(n)),
      ]),
    )
    .addOption(new Option('-n, --lines <n>', 'how many lines').default('50', '50').argParser((v) => {
      const n = parseInteger(v);
      if (n === undefined || n < 0) throw new InvalidArgumentError('expected a whole number of lines, 0 or more.');
      return String(n);
    }))
    .addOption(new Option('-f, --follow', 'keep printing new lines until Ctrl-C; a log not written yet is waited for'))
    .action(async (service: string, options: Record<string, unknown>) => {
      const { stackLogs } = await import('../stack/index.ts');
      const abort = new AbortController();
      if (options['follow'] === true) void untilSignal().then(() => abort.abort());
      await stackLogs(service, stackOptions(options), {
        lines: Number(options['lines']),
        follow: options['follow'] === true,
        signal: abort.signal,
        write: (text) => process.stdout.write(text),
      });
    });

  return new Command('stack')
    .description('the local Kafka (KRaft), Cassandra and Spark (master, two workers, Connect), from Maven Central, with no Docker; needs Java 17 and Maven')
    .addHelpText(
      'after',
      `
Examples:
  tickstream stack up              start Kafka, Cassandra and Spark (the first
                                   run fetches them with Maven)
  tickstream stack up kafka
  tickstream stack status
  tickstream stack logs cassandra -n 100 -f
  tickstream stack logs spark-connect
  tickstream stack down

Jars are cached in $XDG_CACHE_HOME/tickstream (default ~/.cache/tickstream);
configs, data, pid files and logs live in <dataDir>/stack/<service>/.`,
    )
    .addCommand(up)
    .addCommand(down)
    .addCommand(status)
    .addCommand(logs);
}
