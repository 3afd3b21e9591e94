import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, fileErrorReason } from '../errors.ts';
import { flagName, flagOf } from './command-flags.ts';
import { invalid, type Field } from './field.ts';
import { NOT_SHOWN, shownValue } from './redact.ts';
import { FIELDS, type Config, type ConfigKey } from './schema.ts';
import { closestName } from './suggest.ts';

export const CONFIG_FILE = 'tickstream.config.json';
const ENV_PREFIX = 'TICKSTREAM_';

/** `dataDir` → `TICKSTREAM_DATA_DIR`. */
export function envName(key: ConfigKey): string {
  return ENV_PREFIX + flagName(key).replaceAll('-', '_').toUpperCase();
}

export const CONFIG_KEYS = Object.keys(FIELDS) as ConfigKey[];

function field(key: ConfigKey): Field<unknown> {
  return FIELDS[key] as Field<unknown>;
}

export interface ConfigInputs {
  /** Values from CLI flags, by config key, as text. */
  readonly flags?: Partial<Record<ConfigKey, string>>;
  /** The command the flags were given to, so that errors name its own flags (`simulate --port`). */
  readonly command?: string;
  /** The flag a value of `flags` was given with, where it is another spelling than the key's (spark's --url). */
  readonly flagNames?: Partial<Record<ConfigKey, string>>;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Path of the config file; by default `tickstream.config.json` in cwd, if present. */
  readonly file?: string | undefined;
  readonly cwd?: string;
}

/**
 * Builds the configuration: defaults, then the file, then the environment, then flags.
 * Throws ConfigError naming the key, the value and what is allowed.
 */
export function loadConfig(inputs: ConfigInputs = {}): Config {
  const env = inputs.env ?? {};
  const cwd = inputs.cwd ?? process.cwd();
  const values = new Map<ConfigKey, unknown>();
  for (const key of CONFIG_KEYS) values.set(key, field(key).default);

  const set = (key: ConfigKey, raw: unknown, source: string): void => {
    const parsed = field(key).parse(raw);
    if (parsed === invalid) {
      const why = field(key).refusal?.(raw);
      throw new ConfigError(key, shownValue(field(key), raw), why === undefined ? field(key).allowed : `${field(key).allowed} (${why})`, source);
    }
    values.set(key, parsed);
  };

  const file = configFile(inputs.file, env[`${ENV_PREFIX}CONFIG`], cwd);
  if (file !== undefined) {
    for (const [key, raw] of readConfigFile(resolve(cwd, file.path), file.from)) set(key, raw, file.path);
  }

  const known = new Set(CONFIG_KEYS.map(envName));
  known.add(`${ENV_PREFIX}CONFIG`);
  // Not settings: the test runner's switch that makes a missing Java or Maven fail the stack suite.
  known.add(`${ENV_PREFIX}STACK_REQUIRED`);
  for (const name of Object.keys(env)) {
    if (name.startsWith(ENV_PREFIX) && !known.has(name)) {
      const meant = closestName(name.slice(ENV_PREFIX.length), [...known].map((k) => k.slice(ENV_PREFIX.length)));
      throw new ConfigError(name, NOT_SHOWN, unknownSetting(name, meant === undefined ? undefined : `did you mean ${ENV_PREFIX}${meant}?`), 'environment');
    }
  }
  for (const key of CONFIG_KEYS) {
    // The last variable given wins, but an empty one does not erase what another of the same key
    // gives: FINNHUB_TOKEN=... beside an empty TICKSTREAM_FINNHUB_TOKEN keeps the token.
    const given = [...(field(key).extraEnv ?? []), envName(key)].filter((name) => env[name] !== undefined);
    const name = given.filter((n) => env[n] !== '').at(-1) ?? given.at(-1);
    if (name !== undefined) set(key, env[name], name);
  }

  for (const [key, raw] of Object.entries(inputs.flags ?? {}) as [ConfigKey, string | undefined][]) {
    if (raw !== undefined) set(key, raw, inputs.flagNames?.[key] ?? flagOf(key, inputs.command));
  }

  return finish(values);
}

/**
 * The config file to read and what named it: `--config`, else TICKSTREAM_CONFIG, else
 * tickstream.config.json when cwd has one. An empty name is refused: resolved, it would be cwd.
 */
function configFile(flag: string | undefined, env: string | undefined, cwd: string): { path: string; from?: string } | undefined {
  const given = flag !== undefined ? { path: flag, from: '--config' } : env !== undefined ? { path: env, from: `${ENV_PREFIX}CONFIG` } : undefined;
  if (given?.path === '') throw new ConfigError('config file', '', 'the path of a JSON file of settings', given.from);
  return given ?? (existsSync(resolve(cwd, CONFIG_FILE)) ? { path: CONFIG_FILE } : undefined);
}

/** Editors on Windows save UTF-8 with a byte order mark, which JSON.parse refuses as an unexpected token. */
const BOM = '\uFEFF';

function readConfigFile(path: string, from?: string): [ConfigKey, unknown][] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError('config file', path, `a readable JSON file (${fileErrorReason(cause)})`, from);
  }
  let json: unknown;
  try {
    json = JSON.parse(text.startsWith(BOM) ? text.slice(1) : text);
  } catch (cause) {
    throw new ConfigError('config file', path, `a readable JSON file (${syntaxReason(cause, text)})`, from);
  }
  const out: [ConfigKey, unknown][] = [];
  const walk = (node: unknown, prefix: string): void => {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) {
      // A section holding a secret may have been given the secret itself: `"finnhub": "<token>"`.
      const secretInside = CONFIG_KEYS.some((k) => k.startsWith(prefix) && field(k).secret === true);
      throw new ConfigError(prefix.slice(0, -1) || 'config file', secretInside ? NOT_SHOWN : node, 'an object of settings', path);
    }
    for (const [name, value] of Object.entries(node)) {
      const key = prefix + name;
      // Own keys only: `constructor` or `__proto__` in the file is an unknown setting, not a property of every object.
      if (Object.hasOwn(FIELDS, key)) out.push([key as ConfigKey, value]);
      else if (CONFIG_KEYS.some((k) => k.startsWith(`${key}.`))) walk(value, `${key}.`);
      else {
        const names = [...new Set(CONFIG_KEYS.filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length).split('.')[0] as string))];
        const meant = closestName(name, names);
        const hint =
          meant !== undefined ? `did you mean ${prefix}${meant}?` : prefix === '' ? undefined : `the keys under ${prefix.slice(0, -1)} are ${names.join(', ')}`;
        throw new ConfigError(key, NOT_SHOWN, unknownSetting(key, hint), path);
      }
    }
  };
  walk(json, '');
  return out;
}

/**
 * What is wrong with the JSON, and where as line and column (Node 20 gives only a character
 * position). V8 quotes the text around some errors, which may hold a token: only what went wrong is kept.
 */
function syntaxReason(error: unknown, text: string): string {
  if (!(error instanceof SyntaxError)) return error instanceof Error ? error.message : String(error);
  return error.message
    .replace(/, (\.\.\.)?".*"(\.\.\.)? is not valid JSON$/s, ': not valid JSON')
    .replace(/ at position (\d+)(?: \(line \d+ column \d+\))?/, (_, position: string) => {
      const before = text.slice(0, Number(position)).split('\n');
      return ` at line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
    });
}

/** What an unknown setting is told: never its value, which may be a secret under a misspelt name. */
function unknownSetting(name: string, hint: string | undefined): string {
  return `a known setting (${name} is unknown${hint === undefined ? '' : `; ${hint}`}); see the configuration reference in the README`;
}

function finish(values: Map<ConfigKey, unknown>): Config {
  if (values.get('source') === 'auto') {
    values.set('source', values.get('finnhub.token') === undefined ? 'simulator' : 'finnhub');
  }
  if (values.get('source') === 'finnhub' && values.get('finnhub.token') === undefined) {
    throw new ConfigError('finnhub.token', '', 'a Finnhub API key (FINNHUB_TOKEN) when source=finnhub');
  }
  if (values.get('source') === 'replay' && values.get('replay.file') === undefined) {
    throw new ConfigError('replay.file', '', 'an NDJSON file path when source=replay');
  }
  const root: Record<string, unknown> = {};
  for (const [key, value] of values) {
    const parts = key.split('.');
    let node = root;
    for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
    node[parts.at(-1) as string] = value;
  }
  return deepFreeze(root) as unknown as Config;
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
