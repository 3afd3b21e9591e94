import { Command } from 'commander';
import { startRoles, type Roles } from '../app/index.ts';
import { createLogger } from '../observability/index.ts';
import { addConfigOptions, CLUSTER_KEYS, configFromOptions, PIPELINE_KEYS } from './config-options.ts';
import { runUntilStopped } from './signals.ts';
import { dashboardPart, webRoot } from './web-root.ts';

/** A command that runs some of the roles (`produce`, `process`, `serve`) until SIGINT/SIGTERM. */
export function roleCommand(name: string, description: string, roles: Roles, examples: string): Command {
  const keys = [...PIPELINE_KEYS, ...CLUSTER_KEYS];
  const cmd = new Command(name).description(description).addHelpText('after', `\nExamples:\n${examples}`);
  addConfigOptions(cmd, keys).action(async (options: Record<string, unknown>) => {
    const config = configFromOptions(options, keys);
    const logger = createLogger({ level: config.logLevel });
    const root = webRoot();
    // A serve role of the cluster profile reads the pipeline's counts from Kafka, so it has a status line to print too.
    const statusLine = roles.produce || roles.process || config.profile === 'cluster';
    const set = await startRoles(config, roles, { logger, statusLine, webRoot: root });
    const parts = [
      `tickstream ${name} · ${config.profile} profile`,
      set.source === undefined ? undefined : `source ${set.source.kind}${set.simulatorUrl === undefined ? '' : ` at ${set.simulatorUrl}`}`,
      roles.produce || roles.process ? `log ${config.profile === 'cluster' ? `Kafka ${config.kafka.brokers.join(',')}` : 'in-process'}` : undefined,
      roles.process ? `engine ${config.engine} in group ${config.kafka.groupId}` : undefined,
      roles.serve && !roles.process && config.profile === 'cluster' ? `counts from Kafka ${config.kafka.brokers.join(',')}, group ${config.kafka.groupId}` : undefined,
      dashboardPart(set.url, root),
    ];
    logger.info(parts.filter((p) => p !== undefined).join(' · '));
    await runUntilStopped(set, logger, 'stopping');
  });
  return cmd;
}
