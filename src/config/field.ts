import { durationLabel, parseDuration, parseInterval, type DurationMs, type Interval } from '../domain/index.ts';

/**
 * One configuration key: how to read it from text (env, flags) or JSON (the file),
 * what it defaults to, and how to describe it in --help and the README.
 */
export interface Field<T> {
  readonly description: string;
  readonly default: T;
  /** What is allowed, in words, for error messages and docs. */
  readonly allowed: string;
  /** Parses a raw value; returns `invalid` when it is not allowed. */
  parse(raw: unknown): T | typeof invalid;
  /** How the default is shown in docs. */
  show(value: T): string;
  /** Says what is wrong with a value `parse` refused, where `allowed` alone does not (`5s is given twice`). */
  refusal?(raw: unknown): string | undefined;
  /** Secrets are never printed, logged or served. */
  readonly secret?: boolean;
  /** Environment variables read besides TICKSTREAM_<KEY>. */
  readonly extraEnv?: readonly string[];
}

export const invalid: unique symbol = Symbol('invalid');

type Spec<T> = Pick<Field<T>, 'description' | 'default'> & Partial<Pick<Field<T>, 'secret' | 'extraEnv'>>;

export function stringField(spec: Spec<string> & { pattern?: RegExp; allowed?: string }): Field<string> {
  return {
    ...spec,
    allowed: spec.allowed ?? 'a non-empty string',
    parse: (raw) => (typeof raw === 'string' && raw.length > 0 && (spec.pattern?.test(raw) ?? true) ? raw : invalid),
    show: (v) => (v === '' ? '(empty)' : v),
  };
}

const HOST = /^[A-Za-z0-9.:-]+$/;
const BRACKETED = /^\[([0-9A-Fa-f:.]+)\]$/;

/**
 * A host name or IP address to listen on. An IPv6 address may be written in brackets, as a URL
 * shows it (`[::1]`, copied from `http://[::1]:8080`), and is kept without them: a listener
 * takes `::1`, and `[::1]` would be looked up as a host name that does not resolve.
 */
export function hostField(spec: Spec<string>): Field<string> {
  return {
    ...spec,
    allowed: 'a host name or IP address',
    parse: (raw) => {
      if (typeof raw !== 'string') return invalid;
      const host = BRACKETED.exec(raw)?.[1] ?? raw;
      return HOST.test(host) ? host : invalid;
    },
    show: (v) => v,
  };
}

/**
 * Text in a notation of its own, kept in its normal form: `normalize` returns it, or undefined
 * when the text is not allowed. A number in the file is read as its digits.
 */
export function notationField(spec: Spec<string> & { normalize: (text: string) => string | undefined; allowed: string }): Field<string> {
  const { normalize, ...rest } = spec;
  return {
    ...rest,
    parse: (raw) => {
      const text = typeof raw === 'number' ? String(raw) : raw;
      return (typeof text === 'string' ? normalize(text) : undefined) ?? invalid;
    },
    show: (v) => v,
  };
}

export function optionalStringField(spec: Spec<string | undefined>): Field<string | undefined> {
  return {
    ...spec,
    allowed: 'a string',
    parse: (raw) => (typeof raw === 'string' ? (raw === '' ? undefined : raw) : invalid),
    show: (v) => (v === undefined ? '(unset)' : v),
  };
}

const INTEGER_TEXT = /^-?\d+$/;
const DECIMAL_TEXT = /^-?(?:\d+|\d*\.\d+)$/;

/**
 * A whole number written as a plain decimal (`8`, `-3`, blanks around it ignored); undefined for
 * `0x10`, `0b1`, `0o7`, `1e3`, `Infinity` or blank text, all of which Number() would take.
 */
export function parseInteger(text: string): number | undefined {
  const t = text.trim();
  return INTEGER_TEXT.test(t) ? Number(t) : undefined;
}

/** As parseInteger, with a fraction allowed: `0.5`, `.5`, `10`. */
export function parseDecimal(text: string): number | undefined {
  const t = text.trim();
  return DECIMAL_TEXT.test(t) ? Number(t) : undefined;
}

export function intField(spec: Spec<number> & { min: number; max: number }): Field<number> {
  return {
    ...spec,
    allowed: `an integer from ${spec.min} to ${spec.max}`,
    parse: (raw) => {
      const n = typeof raw === 'string' ? parseInteger(raw) : raw;
      return typeof n === 'number' && Number.isInteger(n) && n >= spec.min && n <= spec.max ? n : invalid;
    },
    show: String,
  };
}

export function numberField(spec: Spec<number> & { min: number; max: number }): Field<number> {
  return {
    ...spec,
    allowed: `a number from ${spec.min} to ${spec.max}`,
    parse: (raw) => {
      const n = typeof raw === 'string' ? parseDecimal(raw) : raw;
      return typeof n === 'number' && Number.isFinite(n) && n >= spec.min && n <= spec.max ? n : invalid;
    },
    show: String,
  };
}

export function booleanField(spec: Spec<boolean>): Field<boolean> {
  return {
    ...spec,
    allowed: 'true or false',
    parse: (raw) => {
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      return invalid;
    },
    show: String,
  };
}

export function enumField<const V extends string>(spec: Spec<V> & { values: readonly V[] }): Field<V> {
  return {
    ...spec,
    allowed: `one of ${spec.values.join(', ')}`,
    parse: (raw) => (typeof raw === 'string' && (spec.values as readonly string[]).includes(raw) ? (raw as V) : invalid),
    show: String,
  };
}

/** Written durations offered as examples; a field shows the first three inside its range. */
const DURATION_EXAMPLES: readonly (readonly [string, number])[] = [
  ['500ms', 500],
  ['10s', 10_000],
  ['1m', 60_000],
  ['1h', 3_600_000],
  ['1d', 86_400_000],
];

function durationExamples(min: number, max: number): string {
  const fit = DURATION_EXAMPLES.filter(([, ms]) => ms >= min && ms <= max).map(([text]) => text);
  return (fit.length > 0 ? fit : [durationLabel(min)]).slice(0, 3).join(', ');
}

/**
 * A duration from `min` to `max`; with `zeroIsOff`, 0 too, which turns off what the duration
 * paces (a status line every 1 ms is a thousand lines a second, so its range starts higher).
 */
export function durationField(spec: Spec<DurationMs> & { min: number; max: number; zeroIsOff?: true }): Field<DurationMs> {
  const { zeroIsOff, ...rest } = spec;
  return {
    ...rest,
    // In the units a duration is written in, as the intervals' rule says `to 1d`: 86400000ms asks the reader to count zeros.
    allowed: `${zeroIsOff === true ? '0 to turn it off, or ' : ''}a duration with a unit such as ${durationExamples(spec.min, spec.max)} (from ${durationLabel(spec.min)} to ${durationLabel(spec.max)})`,
    parse: (raw) => {
      // A bare 0 means "none" or "off" (as a file's number 0 does); any other number needs a unit,
      // in the file as in flags and the environment, so that `"lateness": 10` is not read as 10 ms.
      const ms = raw === 0 ? 0 : typeof raw === 'string' ? (raw.trim() === '0' ? 0 : parseDuration(raw)) : undefined;
      if (ms === 0 && zeroIsOff === true) return 0 as DurationMs;
      return ms !== undefined && Number.isInteger(ms) && ms >= spec.min && ms <= spec.max ? (ms as DurationMs) : invalid;
    },
    show: (v) => durationLabel(v),
  };
}

function splitList(raw: unknown): string[] | undefined {
  if (Array.isArray(raw)) return raw.every((x) => typeof x === 'string') ? (raw as string[]).map((x) => x.trim()) : undefined;
  if (typeof raw === 'string') return raw.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
  return undefined;
}

/**
 * A list of text items; `distinct` refuses one given twice (a slip in `--symbols AAPL,MSFT,AAPL`),
 * where other lists fold it.
 */
export function listField(
  spec: Spec<readonly string[]> & { item: (text: string) => boolean; itemAllowed: string; min?: number; distinct?: boolean },
): Field<readonly string[]> {
  const min = spec.min ?? 1;
  const repeated = (items: readonly string[]): string | undefined =>
    spec.distinct === true ? repeatedItem(items, (item) => (spec.item(item) ? item : undefined), 'item') : undefined;
  return {
    ...spec,
    allowed: `a comma-separated list of ${spec.distinct === true ? 'different ' : ''}${spec.itemAllowed} (at least ${min})`,
    parse: (raw) => {
      const items = splitList(raw);
      if (items === undefined || items.length < min || !items.every(spec.item) || repeated(items) !== undefined) return invalid;
      return Object.freeze([...new Set(items)]);
    },
    refusal: (raw) => {
      const items = splitList(raw);
      return items === undefined ? undefined : repeated(items);
    },
    show: (v) => v.join(','),
  };
}

const HOST_PORT = /^([A-Za-z0-9.[\]:-]+):(\d+)$/;

/** `host:port` with a port a client can connect to: 1 to 65535 (0 would mean "any port" to a listener). */
export function isHostPort(text: string): boolean {
  const port = HOST_PORT.exec(text)?.[2];
  return port !== undefined && isPort(Number(port));
}

const isPort = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= 65535;

export function hostPortListField(spec: Spec<readonly string[]>): Field<readonly string[]> {
  return listField({ ...spec, item: isHostPort, itemAllowed: 'host:port with a port from 1 to 65535' });
}

/**
 * A URL with one of `schemes`, checked the way its client will read it, so that a bad
 * port fails at start and not when the first connection is made.
 */
export function urlField(spec: Spec<string> & { schemes: readonly string[]; pattern?: RegExp; allowed: string }): Field<string> {
  return {
    ...spec,
    parse: (raw) => {
      if (typeof raw !== 'string' || !(spec.pattern?.test(raw) ?? true)) return invalid;
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        return invalid;
      }
      if (!spec.schemes.includes(url.protocol.slice(0, -1)) || url.hostname === '') return invalid;
      return url.port === '' || isPort(Number(url.port)) ? raw : invalid;
    },
    show: (v) => v,
  };
}

/**
 * The first item of `items` whose `key` is that of an item given before it, as the refusal says
 * it: `5s is given twice`, or `1m and 60s are the same interval` for two spellings of one value.
 * An item without a key (one not allowed at all) is left to the rest of the check.
 */
function repeatedItem(items: readonly string[], key: (item: string) => string | number | undefined, what: string): string | undefined {
  const seen = new Map<string | number, string>();
  for (const item of items) {
    const k = key(item);
    if (k === undefined) continue;
    const first = seen.get(k);
    if (first !== undefined) return first === item ? `${item} is given twice` : `${first} and ${item} are the same ${what}`;
    seen.set(k, item);
  }
  return undefined;
}

const repeatedInterval = (items: readonly string[]): string | undefined => repeatedItem(items, (item) => parseInterval(item)?.ms, 'interval');

export function intervalsField(spec: Spec<readonly Interval[]> & { max: number }): Field<readonly Interval[]> {
  return {
    ...spec,
    allowed: `a comma-separated list of different durations such as 5s,1m, each from 1ms to ${durationLabel(spec.max)}`,
    parse: (raw) => {
      const items = splitList(raw);
      if (items === undefined || items.length === 0 || repeatedInterval(items) !== undefined) return invalid;
      const parsed = items.map(parseInterval);
      if (parsed.some((x) => x === undefined || x.ms > spec.max)) return invalid;
      return Object.freeze((parsed as Interval[]).sort((a, b) => a.ms - b.ms));
    },
    refusal: (raw) => {
      const items = splitList(raw);
      return items === undefined ? undefined : repeatedInterval(items);
    },
    show: (v) => v.map((i) => i.label).join(','),
  };
}
