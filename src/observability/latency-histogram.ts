/**
 * A fixed-memory latency histogram: buckets grow by ~4% each, from 0.01 ms to
 * about 1 hour, so a percentile is accurate to ~2% and recording is O(1).
 */
const MIN_MS = 0.01;
const GROWTH = 1.04;
const BUCKETS = Math.ceil(Math.log(3_600_000 / MIN_MS) / Math.log(GROWTH)) + 2;
const LOG_GROWTH = Math.log(GROWTH);

export class LatencyHistogram {
  #counts = new Float64Array(BUCKETS);
  #total = 0;
  #sum = 0;
  #max = 0;

  record(ms: number, times = 1): void {
    if (!(ms >= 0)) return;
    const i = ms <= MIN_MS ? 0 : Math.min(BUCKETS - 1, 1 + Math.floor(Math.log(ms / MIN_MS) / LOG_GROWTH));
    this.#counts[i]! += times;
    this.#total += times;
    this.#sum += ms * times;
    if (ms > this.#max) this.#max = ms;
  }

  get count(): number {
    return this.#total;
  }

  get mean(): number {
    return this.#total === 0 ? 0 : this.#sum / this.#total;
  }

  get max(): number {
    return this.#max;
  }

  /** The q-quantile (0..1) in ms, as the upper edge of its bucket; 0 when empty. */
  quantile(q: number): number {
    if (this.#total === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.#total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return Math.min(this.#max, i === 0 ? MIN_MS : MIN_MS * GROWTH ** i);
    }
    return this.#max;
  }

  reset(): void {
    this.#counts.fill(0);
    this.#total = 0;
    this.#sum = 0;
    this.#max = 0;
  }
}
