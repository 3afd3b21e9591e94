import type { Command } from 'commander';
import { roleCommand } from './role-command.ts';

export function serveCommand(): Command {
  return roleCommand(
    'serve',
    'the view role: the dashboard and HTTP API over the store, with live updates read from it',
    { produce: false, process: false, serve: true },
    '  tickstream serve --port 8080\n  tickstream serve --profile cluster --host 0.0.0.0',
  );
}
