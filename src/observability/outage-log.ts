import { formatDuration } from './duration.ts';
import type { Logger } from './logger.ts';

/** While something keeps failing, how often a reminder is logged. */
const REMIND_EVERY_MS = 30_000;

/**
 * The log of something retried while it keeps failing (a store write, a Kafka fetch, a poll):
 * a warning with the reason at the first failure, a reminder with the attempts, how long and
 * the latest reason at most every 30 s, and one line when it works again. A retry
 * every second would otherwise bury the status line under the same warning.
 */
export class OutageLog {
  readonly #log: Logger;
  readonly #what: string;
  readonly #now: () => number;
  #since: number | undefined;
  #loggedAt = 0;
  #attempts = 0;

  constructor(logger: Logger, what: string, now: () => number = Date.now) {
    this.#log = logger;
    this.#what = what;
    this.#now = now;
  }

  /** When the failures began (epoch ms); undefined while it works. */
  get failingSince(): number | undefined {
    return this.#since;
  }

  failed(error: unknown): void {
    const now = this.#now();
    const reason = error instanceof Error ? error.message : String(error);
    this.#attempts++;
    if (this.#since === undefined) {
      this.#since = now;
      this.#loggedAt = now;
      this.#log.warn(`${this.#what} failed; retrying`, { attempt: 1, error: reason });
    } else if (now - this.#loggedAt >= REMIND_EVERY_MS) {
      this.#loggedAt = now;
      this.#log.warn(`${this.#what} still failing; retrying`, { attempt: this.#attempts, for: formatDuration(now - this.#since), error: reason });
    } else {
      this.#log.debug(`${this.#what} failed; retrying`, { attempt: this.#attempts, error: reason });
    }
  }

  /** It worked: says so when it had failed (`attempts` counts this one too), and starts over. */
  succeeded(): void {
    if (this.#since === undefined) return;
    this.#log.info(`${this.#what} recovered`, { attempts: this.#attempts + 1, after: formatDuration(this.#now() - this.#since) });
    this.#since = undefined;
    this.#attempts = 0;
  }
}
