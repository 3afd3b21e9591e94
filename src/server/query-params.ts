import type { EpochMs } from '../domain/index.ts';

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

/** Symbols as the config accepts them (Finnhub names such as AAPL or BINANCE:BTCUSDT). */
const SYMBOL = /^[A-Za-z0-9._:/^=-]{1,40}$/;
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
  if (!SYMBOL.test(value)) {
    throw new BadRequest(name, `${name} must be 1-40 letters, digits or . _ : / ^ = -, e.g. AAPL or BINANCE:BTCUSDT; got ${shown(value)}`);
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

/** Epoch milliseconds, e.g. `from=1717171717000`. */
export function optionalTimeParam(query: Query, name: string): EpochMs | undefined {
  const value = single(query, name);
  if (value === undefined || value === '') return undefined;
  const n = INTEGER.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new BadRequest(name, `${name} must be a time in epoch milliseconds (an integer >= 0); got ${shown(value)}`);
  }
  return n as EpochMs;
}
