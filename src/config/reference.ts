import { CONFIG_KEYS, envName, flagName } from './load.ts';
import { FIELDS } from './schema.ts';
import type { Field } from './field.ts';

/** The README's configuration table, generated from the schema so the two never drift. */
export function configReferenceMarkdown(): string {
  const rows = CONFIG_KEYS.map((key) => {
    const f = FIELDS[key] as Field<unknown>;
    const env = [envName(key), ...(f.extraEnv ?? [])].map((e) => `\`${e}\``).join(', ');
    const flag = f.secret === true ? '(env or file only)' : `\`--${flagName(key)}\``;
    return `| \`${key}\` | ${flag} | ${env} | \`${f.show(f.default)}\` | ${f.description}; ${f.allowed} |`;
  });
  return ['| key (file) | flag | environment | default | meaning |', '|---|---|---|---|---|', ...rows].join('\n');
}
