import type { Bar, EpochMs } from '../domain/index.ts';
import type { BarQuery, Store } from '../store/store.ts';
import { rollupBars, type RollupPlan } from './rollup.ts';

/** Most source bars one store read of a roll-up asks for; a roll-up that needs more reads again. */
export const ROLLUP_CHUNK = 5_000;

/**
 * Runs reads one at a time, and lets the event loop through between two of them. Every roll-up
 * request of a server takes its turns here, so one that reads 300,000 1m bars (1h, limit 5000)
 * holds the process for one chunk at a time, not for seconds: the SQLite store reads on the
 * main thread, and the API, the live push and (in `run`) the engine would wait meanwhile.
 */
export class Turns {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(read: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(() => new Promise<void>((resolve) => setImmediate(resolve))).then(read);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

export interface RollupQuery {
  readonly symbol: string;
  readonly from?: EpochMs | undefined;
  readonly to?: EpochMs | undefined;
  readonly limit: number;
}

/**
 * Rolled-up bars of the windows of `plan.target` that start in [from, to), whole: the newest
 * `limit`, or with `from` and no `to` the oldest `limit` (a page forward). The source bars are
 * read in chunks of at most `chunk` (ROLLUP_CHUNK) from the near end; the window at the far end
 * of a full chunk may go on past it, so unless the chunk holds its first (or, forward, its last)
 * source bar it is left out and read whole with the next chunk. Reading
 * stops once `limit` windows are whole, so memory holds one chunk and the result, whatever the limit.
 */
export async function readRollup(
  store: Pick<Store, 'bars'>,
  plan: RollupPlan,
  q: RollupQuery,
  o: { readonly chunk?: number; readonly turns?: Turns } = {},
): Promise<Bar[]> {
  const size = plan.target.ms;
  const alignDown = (t: number): EpochMs => (Math.floor(t / size) * size) as EpochMs;
  const alignUp = (t: EpochMs): EpochMs => (Math.ceil(t / size) * size) as EpochMs;
  // A window holds at most size / source.ms source bars: a full chunk of twice that spans two windows at least.
  const chunk = Math.max(o.chunk ?? ROLLUP_CHUNK, (2 * size) / plan.source.ms);
  const read = (query: BarQuery): Promise<Bar[]> => (o.turns === undefined ? store.bars(query) : o.turns.run(() => store.bars(query)));
  const forward = q.from !== undefined && q.to === undefined;
  let from = q.from === undefined ? undefined : alignUp(q.from);
  let to = q.to === undefined ? undefined : alignUp(q.to);
  const parts: Bar[][] = [];
  let count = 0;
  while (count < q.limit && (from === undefined || to === undefined || from < to)) {
    const bars = await read({ symbol: q.symbol, interval: plan.source.label, ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }), limit: chunk });
    const full = bars.length === chunk;
    let whole = bars;
    if (full) {
      if (forward) {
        // The last window is whole when the chunk reaches its last source bar.
        const last = (bars[bars.length - 1] as Bar).windowStart;
        const cut = (alignDown(last) + (last + plan.source.ms === alignDown(last) + size ? size : 0)) as EpochMs;
        whole = bars.filter((b) => b.windowStart < cut);
        from = cut;
      } else {
        // The first window is whole when the chunk reaches back to its first source bar.
        const first = (bars[0] as Bar).windowStart;
        const cut = (alignDown(first) + (first === alignDown(first) ? 0 : size)) as EpochMs;
        whole = bars.filter((b) => b.windowStart >= cut);
        to = cut;
      }
    }
    const rolled = rollupBars(whole, plan.target);
    if (forward) parts.push(rolled);
    else parts.unshift(rolled);
    count += rolled.length;
    if (!full) break;
  }
  const bars = parts.flat();
  if (bars.length <= q.limit) return bars;
  return forward ? bars.slice(0, q.limit) : bars.slice(bars.length - q.limit);
}
