#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { TickstreamError } from '../errors.ts';
import { migrateCommand } from './migrate.ts';
import { processCommand } from './process.ts';
import { produceCommand } from './produce.ts';
import { replayCommand } from './replay.ts';
import { runCommand } from './run.ts';
import { serveCommand } from './serve.ts';
import { StoppedBeforeStart } from './signals.ts';
import { sparkCommand } from './spark.ts';
import { simulateCommand } from './simulate.ts';
import { stackCommand } from './stack.ts';

/** This package's version, from src/cli or dist/cli alike (npm_package_version is whichever package ran the npm script). */
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/**
 * `run` is the default only when no command word is given (`tickstream`, `tickstream --port 9000`):
 * otherwise a misspelt command would reach `run` as an argument, and the user would read
 * "too many arguments for 'run'" instead of "unknown command" with a suggestion.
 */
const first = process.argv[2];
const runIsDefault = first === undefined || first.startsWith('-');

const program = new Command('tickstream')
  .description('Real-time market data: trades in, OHLCV bars out, live.')
  .version(version)
  .showHelpAfterError('(add --help for usage)')
  .addHelpText('after', '\nWithout a command, tickstream runs `run`: `tickstream --port 9000` is\n`tickstream run --port 9000`. Every command has --help.')
  .addCommand(runCommand(), { isDefault: runIsDefault })
  .addCommand(simulateCommand())
  .addCommand(replayCommand())
  .addCommand(produceCommand())
  .addCommand(processCommand())
  .addCommand(serveCommand())
  .addCommand(migrateCommand())
  .addCommand(sparkCommand())
  .addCommand(stackCommand());

/**
 * Every command throws its parse errors here instead of exiting 1 itself: bad usage exits 2, as bad
 * config does. And every command's help wraps alike, at the terminal's width (80 when not a terminal):
 * commander leaves descriptions unwrapped where the column beside the flags is narrower than its
 * default 40, so a command listing a long flag (run's --spark-max-offsets-per-trigger) printed
 * 230-column lines while produce, which lists fewer, wrapped at 80.
 */
const configureCommand = (command: Command): void => {
  command.exitOverride();
  command.configureHelp({ minWidthToWrap: 20 });
  command.commands.forEach(configureCommand);
};
configureCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // --help and --version end with exit code 0; the parser has printed its message already.
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : 2);
  // Ctrl-C ends a command as asked whenever it comes; a start it cut short has closed what it
  // opened, and exits now rather than after an open still waiting (a FIFO's) gives up.
  if (error instanceof StoppedBeforeStart) {
    process.stderr.write(`tickstream: ${error.message}\n`);
    process.exit(0);
  }
  if (error instanceof TickstreamError) {
    process.stderr.write(`tickstream: ${error.message}\n`);
    process.exit(error.code === 'TICKSTREAM_CONFIG_INVALID' ? 2 : 1);
  }
  throw error;
}
