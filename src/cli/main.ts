#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { TickstreamError } from '../errors.ts';
import { migrateCommand } from './migrate.ts';
import { processCommand } from './process.ts';
import { produceCommand } from './produce.ts';
import { replayCommand } from './replay.ts';
import { runCommand } from './run.ts';
import { serveCommand } from './serve.ts';
import { sparkCommand } from './spark.ts';
import { simulateCommand } from './simulate.ts';
import { stackCommand } from './stack.ts';

const program = new Command('tickstream')
  .description('Real-time market data: trades in, OHLCV bars out, live.')
  .version(process.env['npm_package_version'] ?? '0.1.0')
  .showHelpAfterError('(add --help for usage)')
  .addCommand(runCommand(), { isDefault: true })
  .addCommand(simulateCommand())
  .addCommand(replayCommand())
  .addCommand(produceCommand())
  .addCommand(processCommand())
  .addCommand(serveCommand())
  .addCommand(migrateCommand())
  .addCommand(sparkCommand())
  .addCommand(stackCommand());

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  if (error instanceof TickstreamError) {
    process.stderr.write(`tickstream: ${error.message}\n`);
    process.exit(error.code === 'TICKSTREAM_CONFIG_INVALID' ? 2 : 1);
  }
  throw error;
}
