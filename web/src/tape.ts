import type { TradeWire } from './api.ts';
import { formatClockMs, formatPrice, formatQuantity } from './format.ts';
import { joinTape } from './tape-rows.ts';

/** The tape keeps this many rows; older ones are removed as new ones arrive. */
export const TAPE_ROWS = 200;

/** Trades of the selected symbol, newest on top; up-ticks and down-ticks coloured. */
export class Tape {
  readonly #body: HTMLTableSectionElement;
  #symbol = '';
  /** Trades received since the last frame, oldest first, never more than TAPE_ROWS. */
  #pending: TradeWire[] = [];
  /** The newest trade shown or pending: seq is per partition and a symbol lives in one, so it orders a symbol's trades. */
  #lastSeq = -1;
  #lastPrice: number | undefined;
  /** Between `reset` and `history`: the live trades shown so far (oldest first), to join with the history; undefined otherwise. */
  #live: TradeWire[] | undefined;

  constructor(container: HTMLElement) {
    const table = document.createElement('table');
    table.className = 'tape';
    const head = table.createTHead().insertRow();
    for (const [label, cls] of [['Time', 'time'], ['Price', 'num'], ['Size', 'num'], ['Cond.', 'cond']] as const) {
      const th = document.createElement('th');
      th.textContent = label;
      th.className = cls;
      head.append(th);
    }
    this.#body = table.createTBody();
    container.append(table);
  }

  get symbol(): string {
    return this.#symbol;
  }

  /**
   * Starts over for another symbol: its rows go at once, and its live trades show as they arrive. `history`
   * then adds the trades that came before them.
   */
  reset(symbol: string): void {
    this.#symbol = symbol;
    this.#body.replaceChildren();
    this.#pending = [];
    this.#lastSeq = -1;
    this.#lastPrice = undefined;
    this.#live = [];
  }

  /**
   * The symbol's recent history (newest first, as GET /api/trades sends it), joined with the live trades shown
   * since `reset`. Ignored when another symbol has been chosen since.
   */
  history(symbol: string, newestFirst: readonly TradeWire[]): void {
    if (symbol !== this.#symbol || this.#live === undefined) return;
    const rows = joinTape(newestFirst, this.#live, TAPE_ROWS);
    this.#live = undefined;
    this.#body.replaceChildren();
    this.#lastPrice = undefined;
    this.#pending = rows;
    this.#lastSeq = Math.max(this.#lastSeq, rows[rows.length - 1]?.seq ?? -1);
  }

  /** Queues the selected symbol's trades from a stream frame; drawn in the next frame. */
  add(trades: readonly TradeWire[]): void {
    const mine = trades.filter((t) => t.symbol === this.#symbol && t.seq > this.#lastSeq).sort((a, b) => a.seq - b.seq);
    if (mine.length === 0) return;
    this.#lastSeq = (mine[mine.length - 1] as TradeWire).seq;
    this.#pending.push(...mine);
    if (this.#pending.length > TAPE_ROWS) this.#pending = this.#pending.slice(-TAPE_ROWS);
    if (this.#live !== undefined) {
      this.#live.push(...mine);
      if (this.#live.length > TAPE_ROWS) this.#live = this.#live.slice(-TAPE_ROWS);
    }
  }

  get hasWork(): boolean {
    return this.#pending.length > 0;
  }

  render(): void {
    if (this.#pending.length === 0) return;
    const rows: HTMLTableRowElement[] = [];
    for (const t of this.#pending) {
      const tr = document.createElement('tr');
      const dir = this.#lastPrice === undefined || t.price === this.#lastPrice ? 'flat' : t.price > this.#lastPrice ? 'up' : 'down';
      tr.className = dir;
      // The trade's place in its partition: orders the rows, and lets a test tell two trades of the same time, price and size apart.
      tr.dataset['seq'] = String(t.seq);
      this.#lastPrice = t.price;
      cell(tr, formatClockMs(t.ts), 'time');
      cell(tr, formatPrice(t.price), 'num price');
      cell(tr, formatQuantity(t.volume), 'num');
      cell(tr, t.conditions.join(' '), 'cond');
      rows.push(tr);
    }
    this.#pending = [];
    rows.reverse();
    this.#body.prepend(...rows);
    while (this.#body.rows.length > TAPE_ROWS) this.#body.lastElementChild?.remove();
  }
}

function cell(tr: HTMLTableRowElement, text: string, className: string): void {
  const td = tr.insertCell();
  td.textContent = text;
  td.className = className;
}
