import { formatDuration, parseDuration, parseInterval, type DurationMs, type Interval } from '../domain/index.ts';

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

export function optionalStringField(spec: Spec<string | undefined>): Field<string | undefined> {
  return {
    ...spec,
    allowed: 'a string',
    parse: (raw) => (typeof raw === 'string' ? (raw === '' ? undefined : raw) : invalid),
    show: (v) => (v === undefined ? '(unset)' : v),
  };
}

export function intField(spec: Spec<number> & { min: number; max: number }): Field<number> {
  return {
    ...spec,
    allowed: `an integer from ${spec.min} to ${spec.max}`,
    parse: (raw) => {
      const n = typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw;
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
      const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
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

export function durationField(spec: Spec<DurationMs> & { min: number; max: number }): Field<DurationMs> {
  return {
    ...spec,
    allowed: `a duration such as 500ms, 10s, 1m (from ${spec.min}ms to ${spec.max}ms)`,
    parse: (raw) => {
      const ms = typeof raw === 'number' ? raw : typeof raw === 'string' ? parseDuration(raw) : undefined;
      return ms !== undefined && Number.isInteger(ms) && ms >= spec.min && ms <= spec.max ? (ms as DurationMs) : invalid;
    },
    show: (v) => formatDuration(v),
  };
}

function splitList(raw: unknown): string[] | undefined {
  if (Array.isArray(raw)) return raw.every((x) => typeof x === 'string') ? (raw as string[]).map((x) => x.trim()) : undefined;
  if (typeof raw === 'string') return raw.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
  return undefined;
}

export function listField(spec: Spec<readonly string[]> & { item: RegExp; itemAllowed: string; min?: number }): Field<readonly string[]> {
  const min = spec.min ?? 1;
  return {
    ...spec,
    allowed: `a comma-separated list of ${spec.itemAllowed} (at least ${min})`,
    parse: (raw) => {
      const items = splitList(raw);
      if (items === undefined || items.length < min || !items.every((x) => spec.item.test(x))) return invalid;
      return Object.freeze([...new Set(items)]);
    },
    show: (v) => v.join(','),
  };
}

export function intervalsField(spec: Spec<readonly Interval[]>): Field<readonly Interval[]> {
  return {
    ...spec,
    allowed: 'a comma-separated list of positive durations such as 5s,1m',
    parse: (raw) => {
      const items = splitList(raw);
      if (items === undefined || items.length === 0) return invalid;
      const parsed = items.map(parseInterval);
      if (parsed.some((x) => x === undefined)) return invalid;
      const unique = new Map((parsed as Interval[]).map((i) => [i.ms, i]));
      return Object.freeze([...unique.values()].sort((a, b) => a.ms - b.ms));
    },
    show: (v) => v.map((i) => i.label).join(','),
  };
}
