import { pause } from '../domain/index.ts';
import { TickstreamError } from '../errors.ts';
import type { Logger } from '../observability/index.ts';

export interface RetryOptions {
  readonly initialMs?: number;
  readonly maxMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * Retries an operation with exponential backoff and jitter until it succeeds,
 * as long as the error can be retried. Used where giving up would lose data
 * (a store write): the caller stops committing and backpressure builds instead.
 * An abort of `signal` ends the wait between attempts and throws the last error.
 */
export async function retryForever<T>(op: () => Promise<T>, logger: Logger, what: string, options: RetryOptions = {}): Promise<T> {
  const initial = options.initialMs ?? 100;
  const max = options.maxMs ?? 5_000;
  for (let attempt = 0; ; attempt++) {
    try {
      const result = await op();
      if (attempt > 0) logger.info(`${what} recovered`, { attempts: attempt + 1 });
      return result;
    } catch (error) {
      if (error instanceof TickstreamError && !error.canRetry) throw error;
      if (options.signal?.aborted) throw error;
      const delay = Math.random() * Math.min(max, initial * 2 ** attempt);
      const message = error instanceof Error ? error.message : String(error);
      if (attempt === 0 || attempt % 10 === 0) logger.warn(`${what} failed; retrying`, { attempt: attempt + 1, error: message });
      await pause(delay, options.signal);
      if (options.signal?.aborted) throw error;
    }
  }
}
