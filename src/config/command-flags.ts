import type { ConfigKey } from './schema.ts';

const kebab = (s: string): string => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** `finnhub.url` → `finnhub-url`, `dataDir` → `data-dir`: the flag of a key on every command that takes it. */
export function flagName(key: ConfigKey): string {
  return key.split('.').map(kebab).join('-');
}

/**
 * Flags that a command spells its own way, by command, then flag (without `--`) → config key.
 * `simulate` serves only the simulator, so `--port` there is `simulator.port`, not the HTTP port.
 * Errors and the README name these flags; test/config/reference.test.ts keeps simulate's options in step.
 */
export const COMMAND_FLAGS: Readonly<Record<string, Readonly<Record<string, ConfigKey>>>> = {
  simulate: {
    host: 'simulator.host',
    port: 'simulator.port',
    rate: 'simulator.rate',
    seed: 'simulator.seed',
    disorder: 'simulator.disorder',
    batch: 'simulator.batch',
    symbols: 'symbols',
  },
};

/** The flag that set `key` on `command`, as the user typed it: `--port` on simulate, else `--simulator-port`. */
export function flagOf(key: ConfigKey, command?: string): string {
  const own = command === undefined ? undefined : Object.entries(COMMAND_FLAGS[command] ?? {}).find(([, k]) => k === key)?.[0];
  return `--${own ?? flagName(key)}`;
}
