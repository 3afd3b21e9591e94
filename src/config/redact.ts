import type { Field } from './field.ts';
import { configValue, FIELDS, type Config, type ConfigKey } from './schema.ts';

export const MASK = '***';

/** Stands for a value an error must not print: a secret, or a setting nobody declared (it may be one). */
export const NOT_SHOWN = { toString: (): string => '<not shown>' };

const URL_START = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;
/** Userinfo `user:password@`, up to the last `@` before the path, as URL parsers read it. */
const USERINFO = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/?#@]*):([^/?#]*)@/;
/** `?a=b&c=d`, `#a=b`, and Spark Connect's `/;token=...;user_id=...`. */
const PARAM = /([?&;#])([^=&;#]*)=([^&;#]*)/g;
const SECRET_PARAM = /token|key|secret|passw(?:or)?d|pwd/i;

/** A URL with its password and secret-named parameters replaced by `***`; other text unchanged. */
export function maskUrl(text: string): string {
  if (!URL_START.test(text)) return text;
  return text
    .replace(USERINFO, (_, scheme: string, user: string) => `${scheme}${user}:${MASK}@`)
    .replace(PARAM, (all, sep: string, name: string) => (SECRET_PARAM.test(safeDecode(name)) ? `${sep}${name}=${MASK}` : all));
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function maskValue(value: unknown): unknown {
  if (typeof value === 'string') return maskUrl(value);
  if (Array.isArray(value)) return value.map(maskValue);
  return value;
}

/** What an error may print of a key's raw value: nothing of a secret, and no credentials in a URL. */
export function shownValue(field: Field<unknown>, raw: unknown): unknown {
  return field.secret === true ? NOT_SHOWN : maskValue(raw);
}

/** The config with secrets masked, for start-up lines, logs and the API (`GET /api/config`). */
export function redactConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(FIELDS) as ConfigKey[]) {
    const field = FIELDS[key] as Field<unknown>;
    const value = configValue(config, key);
    out[key] = field.secret === true ? (value === undefined ? undefined : MASK) : maskValue(value);
  }
  return out;
}

/** The config as text for the log, each value once and as the README shows it (`5s,1m`, `10s`), secrets masked. */
export function shownConfig(config: Config): Record<string, string> {
  const redacted = redactConfig(config);
  return Object.fromEntries(Object.entries(redacted).map(([key, value]) => [key, (FIELDS[key as ConfigKey].show as (v: unknown) => string)(value)]));
}
