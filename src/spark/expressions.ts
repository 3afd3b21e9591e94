import type { Expression, Literal } from './proto-types.ts';

/** A column by name (dots address struct fields, e.g. `window.start`). */
export const col = (name: string): Expression => ({ unresolved_attribute: { unparsed_identifier: name } });

/** A SQL expression parsed by the server, e.g. `min_by(price, ts) AS open`. */
export const expr = (sql: string): Expression => ({ expression_string: { expression: sql } });

/** `*`, or `t.*` for the fields of struct or relation t. */
export const star = (target?: string): Expression => ({
  unresolved_star: target === undefined ? {} : { unparsed_target: target.endsWith('.*') ? target : `${target}.*` },
});

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

export function literal(value: string | number | bigint | boolean | Date): Literal {
  switch (typeof value) {
    case 'string':
      return { string: value };
    case 'boolean':
      return { boolean: value };
    case 'bigint':
      return { long: value.toString() };
    case 'number':
      return Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX ? { integer: value } : { double: value };
    default:
      // Spark timestamps are microseconds since the epoch.
      return { timestamp: (BigInt(value.getTime()) * 1000n).toString() };
  }
}

export const lit = (value: string | number | bigint | boolean | Date): Expression => ({ literal: literal(value) });

/** A function call resolved by the server: a built-in (`max`, `min_by`, `window`, ...). */
export const fn = (name: string, ...args: readonly Expression[]): Expression => ({
  unresolved_function: { function_name: name, arguments: args },
});

export const alias = (e: Expression, name: string): Expression => ({ alias: { expr: e, name: [name] } });

export const cast = (e: Expression, type: string): Expression => ({ cast: { expr: e, type_str: type } });

/**
 * Tumbling (or, with slide, sliding) event-time windows, as Spark's `window()`: the result is a
 * struct column `window{start, end}` aligned to the epoch.
 */
export function window(timeColumn: string | Expression, duration: string, slide?: string): Expression {
  const time = typeof timeColumn === 'string' ? col(timeColumn) : timeColumn;
  const args = [time, lit(duration)];
  if (slide !== undefined) args.push(lit(slide));
  return fn('window', ...args);
}
