import { SYMBOL_ALLOWED, SYMBOL_PATTERN, type EpochMs } from '../domain/index.ts';

/** A bad query parameter: answered 400 `{ error: 'bad_request', message }`, the message naming the parameter and the value. */
export class BadRequest extends Error {
  readonly param: string;

  constructor(param: string, message: string) {
    super(message);
    this.name = 'BadRequest';
    this.param = param;
  }
}

export type Query = Record<string, unknown>;

const INTEGER = /^-?\d{1,16}$/;

const shown = (value: unknown): string => JSON.stringify(typeof value === 'string' ? value : String(value));

/** A repeated parameter (`?limit=1&limit=2`) is ambiguous: refuse it rather than pick one. */
function single(query: Query, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (Array.isArray(value)) throw new BadRequest(name, `${name} must be given once; got ${value.length} values`);
  return String(value);
}

export function symbolParam(query: Query, name = 'symbol'): string {
  const value = single(query, name);
  if (value === undefined || value === '') throw new BadRequest(name, `${name} is required, e.g. ${name}=AAPL`);
  if (!SYMBOL_PATTERN.test(value)) {
    throw new BadRequest(name, `${name} must be ${SYMBOL_ALLOWED}, e.g. AAPL or BINANCE:BTCUSDT; got ${shown(value)}`);
  }
  return value;
}

export function oneOfParam(query: Query, name: string, allowed: readonly string[]): string {
  const value = single(query, name);
  if (value === undefined || value === '') throw new BadRequest(name, `${name} is required: one of ${allowed.join(', ')}`);
  if (!allowed.includes(value)) throw new BadRequest(name, `${name} must be one of ${allowed.join(', ')}; got ${shown(value)}`);
  return value;
}

export function intParam(query: Query, name: string, o: { min: number; max: number; default: number }): number {
  return optionalIntParam(query, name, o) ?? o.default;
}

export function optionalIntParam(query: Query, name: string, o: { min: number; max: number }): number | undefined {
  const value = single(query, name);
  if (value === undefined || value === '') return undefined;
  const n = INTEGER.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < o.min || n > o.max) {
    throw new BadRequest(name, `${name} must be an integer from ${o.min} to ${o.max}; got ${shown(value)}`);
  }
  return n;
}

/**
 * An ISO 8601 date and time with its zone: 2026-01-02T15:04:05Z, seconds and milliseconds optional,
 * the T and Z in either case (as RFC 3339 allows).
 * A space before the offset is a `+` that the query string decoded as one (`from=…T10:00:00+01:00`
 * typed as is): it is read as the `+` it was, since a time has no other place for a space.
 */
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?([Zz]|([+ -])(\d{2}):(\d{2}))$/;

/** Epoch milliseconds of an ISO_TIME string; NaN when it does not match or names no real time (Feb 30, 25:00). */
function isoTimeMs(value: string): number {
  const m = ISO_TIME.exec(value);
  if (m === null) return Number.NaN;
  const field = (i: number): number => Number(m[i] ?? 0);
  const [year, month, day, hour, minute, second] = [field(1), field(2), field(3), field(4), field(5), field(6)];
  const ms = Number((m[7] ?? '').padEnd(3, '0'));
  const offsetMinutes = m[9] === undefined ? 0 : (m[9] === '-' ? -1 : 1) * (field(10) * 60 + field(11));
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  // Before 1970 is below epoch 0 (and Date.UTC reads years below 100 as 19xx).
  const real = year >= 1970 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth && hour <= 23 && minute <= 59 && second <= 59;
  if (!real || field(11) > 59 || Math.abs(offsetMinutes) > 14 * 60) return Number.NaN;
  return Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMinutes * 60_000;
}

/** A time: epoch milliseconds (`from=1717171717000`) or ISO 8601 with a zone (`from=2026-01-02T15:04:05Z`). */
export function optionalTimeParam(query: Query, name: string): EpochMs | undefined {
  const value = single(query, name);
  if (value === undefined || value === '') return undefined;
  const n = INTEGER.test(value) ? Number(value) : isoTimeMs(value);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new BadRequest(
      name,
      `${name} must be a time: epoch milliseconds (an integer >= 0) or ISO 8601 with a zone, e.g. 2026-01-02T15:04:05Z; got ${shown(value)}`,
    );
  }
  return n as EpochMs;
}
