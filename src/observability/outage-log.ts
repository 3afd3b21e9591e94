import { formatDuration } from './duration.ts';
import type { LogFields, Logger } from './logger.ts';

/** While something keeps failing, how often a reminder is logged. */
export const OUTAGE_REMIND_EVERY_MS = 30_000;

export interface OutageLogOptions {
  readonly remindEveryMs?: number;
  readonly now?: () => number;
}

/**
 * The log of something retried while it keeps failing (a store write, a Kafka fetch, a poll):
 * a warning with the reason at the first failure, a reminder with the attempts, how long and
 * the latest reason at most every `remindEveryMs`, and one line when it works again. A retry
 * every second would otherwise bury the status line under the same warning.
 */
export class OutageLog {
  readonly #log: Logger;
  readonly #what: string;
  readonly #remindEveryMs: number;
  readonly #now: () => number;
  #since: number | undefined;
  #loggedAt = 0;
  #attempts = 0;

  constructor(logger: Logger, what: string, options: OutageLogOptions = {}) {
    this.#log = logger;
    this.#what = what;
    this.#remindEveryMs = options.remindEveryMs ?? OUTAGE_REMIND_EVERY_MS;
    this.#now = options.now ?? Date.now;
  }

  /** When the failures began (epoch ms); undefined while it works. */
  get failingSince(): number | undefined {
    return this.#since;
  }

  failed(error: unknown, fields: LogFields = {}): void {
    const now = this.#now();
    const reason = error instanceof Error ? error.message : String(error);
    this.#attempts++;
    if (this.#since === undefined) {
      this.#since = now;
      this.#loggedAt = now;
      this.#log.warn(`${this.#what} failed; retrying`, { ...fields, attempt: 1, error: reason });
    } else if (now - this.#loggedAt >= this.#remindEveryMs) {
      this.#loggedAt = now;
      this.#log.warn(`${this.#what} still failing; retrying`, { ...fields, attempt: this.#attempts, for: formatDuration(now - this.#since), error: reason });
    } else {
      this.#log.debug(`${this.#what} failed; retrying`, { ...fields, attempt: this.#attempts, error: reason });
    }
  }

  /** It worked: says so when it had failed (`attempts` counts this one too), and starts over. */
  succeeded(fields: LogFields = {}): void {
    if (this.#since === undefined) return;
    this.#log.info(`${this.#what} recovered`, { ...fields, attempts: this.#attempts + 1, after: formatDuration(this.#now() - this.#since) });
    this.#since = undefined;
    this.#attempts = 0;
  }
}
