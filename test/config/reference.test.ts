import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SIMULATE_DESCRIPTIONS, simulateCommand } from '../../src/cli/simulate.ts';
import { COMMAND_FLAGS, CONFIG_FIELDS, CONFIG_KEYS, flagName, type ConfigKey } from '../../src/config/index.ts';
import { commandFlags, generatedSections } from '../../src/docs-sections.ts';

test('every flag the README’s configuration table names is accepted by the command it names', () => {
  const commands = commandFlags();
  const anyCommand = new Set(commands.flatMap((c) => c.flags));
  const rows = generatedSections()['config']!.split('\n').slice(2);
  assert.equal(rows.length, CONFIG_KEYS.length);
  for (const row of rows) {
    const [, key, flags] = row.split(' | ').map((cell) => cell.trim());
    for (const [, command, flag] of (flags ?? '').matchAll(/`(?:([a-z ]+) )?(--[a-z-]+)`/g)) {
      if (command === undefined) assert.ok(anyCommand.has(flag!), `${key}: no command accepts ${flag}`);
      else assert.ok(commands.find((c) => c.command === command)?.flags.includes(flag!), `${key}: ${command} does not accept ${flag}`);
    }
  }
  const simulatorHost = rows.find((r) => r.startsWith('| `simulator.host` '));
  assert.match(simulatorHost ?? '', /^\| `simulator\.host` \| `simulate --host` \|/);
  assert.match(rows.find((r) => r.startsWith('| `simulator.port` ')) ?? '', /`--simulator-port`, `simulate --port`/);
});

test('simulate’s own flags are the ones COMMAND_FLAGS maps, each to the key its help describes', () => {
  const own = COMMAND_FLAGS['simulate'] ?? {};
  const options = simulateCommand().options.filter((o) => o.long !== '--config');
  const generic = new Map(CONFIG_KEYS.map((k) => [`--${flagName(k)}`, k]));
  for (const option of options) {
    const name = option.long?.replace(/^--/, '') ?? '';
    const key: ConfigKey | undefined = own[name] ?? generic.get(option.long ?? '');
    assert.ok(key !== undefined, `simulate ${option.long} sets no config key that COMMAND_FLAGS or the key's own flag name knows`);
    assert.ok(option.description.startsWith(SIMULATE_DESCRIPTIONS[key] ?? CONFIG_FIELDS[key].description), `simulate ${option.long} is not ${key}`);
  }
  for (const flag of Object.keys(own)) assert.ok(options.some((o) => o.long === `--${flag}`), `simulate has no --${flag}`);
});
