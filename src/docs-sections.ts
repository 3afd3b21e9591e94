import type { Command } from 'commander';
import { migrateCommand } from './cli/migrate.ts';
import { processCommand } from './cli/process.ts';
import { produceCommand } from './cli/produce.ts';
import { replayCommand } from './cli/replay.ts';
import { runCommand } from './cli/run.ts';
import { serveCommand } from './cli/serve.ts';
import { simulateCommand } from './cli/simulate.ts';
import { sparkCommand } from './cli/spark.ts';
import { stackCommand } from './cli/stack.ts';
import { configReferenceMarkdown, type CommandFlags } from './config/index.ts';
import { ERROR_CODES } from './errors.ts';

/** Every command `tickstream` has (src/cli/main.ts adds the same), with its subcommands. */
const COMMANDS = [runCommand, simulateCommand, replayCommand, produceCommand, processCommand, serveCommand, migrateCommand, sparkCommand, stackCommand];

/** The long flags of each command and subcommand, as built, so the README names only flags that exist. */
export function commandFlags(): CommandFlags[] {
  const out: CommandFlags[] = [];
  const visit = (cmd: Command, path: string): void => {
    out.push({ command: path, flags: cmd.options.flatMap((o) => (o.long === undefined ? [] : [o.long])) });
    for (const sub of cmd.commands) visit(sub, `${path} ${sub.name()}`);
  };
  for (const make of COMMANDS) {
    const cmd = make();
    visit(cmd, cmd.name());
  }
  return out;
}

/** The README sections generated from code, by marker name. `npm run docs` rewrites them; a test checks them. */
export function generatedSections(): Record<string, string> {
  const errors = [
    '| code | meaning |',
    '|---|---|',
    ...Object.entries(ERROR_CODES).map(([code, meaning]) => `| \`${code}\` | ${meaning} |`),
  ].join('\n');
  return { config: configReferenceMarkdown(commandFlags()), errors };
}

export function renderReadme(readme: string): string {
  let out = readme;
  for (const [name, body] of Object.entries(generatedSections())) {
    const re = new RegExp(`(<!-- ${name}:start -->)[\\s\\S]*?(<!-- ${name}:end -->)`);
    out = out.replace(re, `$1\n${body}\n$2`);
  }
  return out;
}
