import { COMMAND_FLAGS, flagName } from './command-flags.ts';
import { CONFIG_KEYS, envName } from './load.ts';
import { FIELDS, type ConfigKey } from './schema.ts';
import type { Field } from './field.ts';

/** A command, by its name as typed (`simulate`, `stack up`), and the long flags it accepts (`--port`). */
export interface CommandFlags {
  readonly command: string;
  readonly flags: readonly string[];
}

/**
 * The flags that set each key, as the commands accept them: `--simulator-port` where a command
 * takes the key's own flag, `simulate --port` where a command spells it its own way.
 */
function flagsByKey(commands: readonly CommandFlags[]): Map<ConfigKey, string[]> {
  const byFlag = new Map(CONFIG_KEYS.map((key) => [flagName(key), key]));
  const out = new Map<ConfigKey, string[]>();
  for (const { command, flags } of commands) {
    for (const flag of flags) {
      const name = flag.replace(/^--/, '');
      const own = COMMAND_FLAGS[command]?.[name];
      const key = own ?? byFlag.get(name);
      if (key === undefined) continue;
      const label = own !== undefined && name !== flagName(own) ? `${command} ${flag}` : flag;
      const labels = out.get(key) ?? [];
      if (!labels.includes(label)) labels.push(label);
      out.set(key, labels);
    }
  }
  for (const labels of out.values()) labels.sort((a, b) => Number(!a.startsWith('--')) - Number(!b.startsWith('--')));
  return out;
}

/** The README's configuration table, generated from the schema and the commands so that neither drifts. */
export function configReferenceMarkdown(commands: readonly CommandFlags[]): string {
  const flags = flagsByKey(commands);
  const rows = CONFIG_KEYS.map((key) => {
    const f = FIELDS[key] as Field<unknown>;
    const env = [envName(key), ...(f.extraEnv ?? [])].map((e) => `\`${e}\``).join(', ');
    const given = f.secret === true ? [] : (flags.get(key) ?? []);
    const flag = given.length === 0 ? '(env or file only)' : given.map((x) => `\`${x}\``).join(', ');
    return `| \`${key}\` | ${flag} | ${env} | \`${f.show(f.default)}\` | ${f.description}; ${f.allowed} |`;
  });
  return ['| key (file) | flag | environment | default | meaning |', '|---|---|---|---|---|', ...rows].join('\n');
}
