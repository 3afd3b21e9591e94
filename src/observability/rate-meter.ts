/** Events per second over a sliding window of one-second slots, fed with a count and a timestamp. */
export class RateMeter {
  readonly #slots: Float64Array;
  readonly #slotSecond: Float64Array;

  constructor(windowSeconds = 10) {
    this.#slots = new Float64Array(windowSeconds);
    this.#slotSecond = new Float64Array(windowSeconds).fill(-1);
  }

  mark(count: number, nowMs: number): void {
    const second = Math.floor(nowMs / 1000);
    const i = second % this.#slots.length;
    if (this.#slotSecond[i] !== second) {
      this.#slotSecond[i] = second;
      this.#slots[i] = 0;
    }
    this.#slots[i]! += count;
  }

  /** Mean rate over the last complete seconds of the window. */
  perSecond(nowMs: number): number {
    const current = Math.floor(nowMs / 1000);
    let sum = 0;
    let seconds = 0;
    for (let back = 1; back < this.#slots.length; back++) {
      const second = current - back;
      const i = second % this.#slots.length;
      seconds++;
      if (this.#slotSecond[i] === second) sum += this.#slots[i]!;
    }
    return seconds === 0 ? 0 : sum / seconds;
  }
}
