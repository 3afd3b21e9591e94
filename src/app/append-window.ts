/**
 * Lets a source hand over trades without waiting for each append to be acknowledged, up
 * to a bound: the log batches what is in flight (Kafka sends thousands per request instead
 * of one frame per round trip), and once `limit` trades wait, the source waits too. Appends
 * are queued by the log in call order, so nothing is reordered; a failed append fails the
 * call that finds it, so a failure is never swallowed.
 */
export class AppendWindow {
  readonly #limit: number;
  readonly #inFlight: { done: Promise<void>; count: number }[] = [];
  #count = 0;
  #failure: unknown;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Trades appended but not yet acknowledged. */
  get pending(): number {
    return this.#count;
  }

  /** Registers an append of `count` trades; resolves when the window has room again. */
  async admit(done: Promise<void>, count: number): Promise<void> {
    if (this.#failure !== undefined) {
      const failure = this.#failure;
      this.#failure = undefined;
      throw failure;
    }
    const entry = { done, count };
    this.#inFlight.push(entry);
    this.#count += count;
    void done.then(
      () => this.#settle(entry),
      (error: unknown) => {
        this.#settle(entry);
        this.#failure ??= error;
      },
    );
    while (this.#count > this.#limit) {
      const oldest = this.#inFlight[0];
      if (oldest === undefined) break;
      await oldest.done;
      this.#settle(oldest);
    }
  }

  /** Waits for every append in flight. */
  async drain(): Promise<void> {
    while (this.#inFlight.length > 0) {
      const oldest = this.#inFlight[0]!;
      await oldest.done;
      this.#settle(oldest);
    }
  }

  #settle(entry: { done: Promise<void>; count: number }): void {
    const i = this.#inFlight.indexOf(entry);
    if (i < 0) return;
    this.#inFlight.splice(i, 1);
    this.#count -= entry.count;
  }
}
