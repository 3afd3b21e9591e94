import type { Command } from 'commander';
import { roleCommand } from './role-command.ts';

export function processCommand(): Command {
  return roleCommand(
    'process',
    'the processor role: the Kafka trades topic (market.trades) → engine (a consumer group member) → store (cluster profile); start several to share the partitions',
    { produce: false, process: true, serve: false },
    '  tickstream process --profile cluster --engine ts\n  tickstream process --profile cluster --kafka-group-id tickstream-engine',
  );
}
