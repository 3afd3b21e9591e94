export interface BackoffOptions {
  /** Cap of the first delay. */
  readonly initialMs?: number;
  /** Largest delay ever. */
  readonly maxMs?: number;
  /** Uniform in [0, 1); injected so tests can pin the jitter. */
  readonly random?: () => number;
}

/**
 * Exponential backoff with full jitter: the n-th delay is uniform in [0, min(max, initial·2ⁿ)).
 * Full jitter spreads the reconnects of many clients (or of one client after a server
 * restart) so that they do not arrive as a storm, which gets a Finnhub key throttled.
 */
export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.#initialMs = Math.max(1, options.initialMs ?? 250);
    this.#maxMs = Math.max(this.#initialMs, options.maxMs ?? 30_000);
    this.#random = options.random ?? Math.random;
  }

  /** How many delays were handed out since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The upper bound of the next delay. */
  ceilingMs(): number {
    // 2^31 already exceeds any sane maxMs; stopping the exponent there keeps the product finite.
    return Math.min(this.#maxMs, this.#initialMs * 2 ** Math.min(this.#attempt, 31));
  }

  next(): number {
    const ceiling = this.ceilingMs();
    this.#attempt++;
    return Math.floor(this.#random() * ceiling);
  }

  reset(): void {
    this.#attempt = 0;
  }
}
