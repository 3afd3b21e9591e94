import { pause } from '../domain/index.ts';
import { TickstreamError } from '../errors.ts';
import { OutageLog, type Logger } from '../observability/index.ts';

export interface RetryOptions {
  readonly initialMs?: number;
  readonly maxMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * Retries an operation with exponential backoff and jitter until it succeeds,
 * as long as the error can be retried. Used where giving up would lose data
 * (a store write): the caller stops committing and backpressure builds instead.
 * An abort of `signal` ends the wait between attempts and throws the last error. The first
 * failure is logged with its reason, then a reminder at most every 30 s, and the
 * recovery once (OutageLog).
 */
export async function retryForever<T>(op: () => Promise<T>, logger: Logger, what: string, options: RetryOptions = {}): Promise<T> {
  const initial = options.initialMs ?? 100;
  const max = options.maxMs ?? 5_000;
  const outage = new OutageLog(logger, what);
  for (let attempt = 0; ; attempt++) {
    try {
      const result = await op();
      outage.succeeded();
      return result;
    } catch (error) {
      if (error instanceof TickstreamError && !error.canRetry) throw error;
      if (options.signal?.aborted) throw error;
      const delay = Math.random() * Math.min(max, initial * 2 ** attempt);
      outage.failed(error);
      await pause(delay, options.signal);
      if (options.signal?.aborted) throw error;
    }
  }
}
