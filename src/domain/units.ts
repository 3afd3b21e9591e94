/**
 * Branded units. A brand costs nothing at run time; it makes mixing event time
 * with processing time, or a price with a volume, fail to compile.
 */
declare const brand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brand]: B };

/** Milliseconds since the UTC epoch. */
export type EpochMs = Brand<number, 'EpochMs'>;
/** A span of time in milliseconds. */
export type DurationMs = Brand<number, 'DurationMs'>;
export type Price = Brand<number, 'Price'>;
export type Volume = Brand<number, 'Volume'>;
/** Position of a record in one partition of the log; dense, starting at 0. */
export type Offset = Brand<number, 'Offset'>;

export const epochMs = (n: number): EpochMs => n as EpochMs;
export const durationMs = (n: number): DurationMs => n as DurationMs;
export const price = (n: number): Price => n as Price;
export const volume = (n: number): Volume => n as Volume;
export const offset = (n: number): Offset => n as Offset;
