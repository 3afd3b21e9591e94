import type { SymbolSummary, TradeWire } from './api.ts';
import { formatPercent, formatPrice, formatRate } from './format.ts';
import type { Palette } from './theme.ts';

interface Row {
  readonly el: HTMLLIElement;
  readonly price: HTMLElement;
  readonly change: HTMLElement;
  readonly rate: HTMLElement;
  readonly spark: HTMLCanvasElement;
  summary: SymbolSummary;
}

const SPARK_W = 72;
const SPARK_H = 22;

/**
 * Every symbol: last price, change over the session, sparkline, trades per second. Click to chart it, or use
 * the keyboard as in a single-select listbox: one tab stop, the arrow keys, Home and End move the selection.
 */
export class Watchlist {
  /** The box that scrolls the list: its container. */
  readonly #scroller: HTMLElement;
  readonly #list: HTMLUListElement;
  readonly #rows = new Map<string, Row>();
  /** Symbols whose row must be redrawn in the next frame. */
  readonly #dirty = new Set<string>();
  #selected: string | undefined;
  #stale = false;
  #palette: Palette;
  readonly #onSelect: (symbol: string) => void;

  constructor(container: HTMLElement, palette: Palette, onSelect: (symbol: string) => void) {
    this.#palette = palette;
    this.#onSelect = onSelect;
    this.#scroller = container;
    this.#list = document.createElement('ul');
    this.#list.className = 'watchlist';
    this.#list.setAttribute('role', 'listbox');
    this.#list.setAttribute('aria-label', 'Symbols');
    container.append(this.#list);
    this.#list.addEventListener('click', (e) => {
      const li = (e.target as Element).closest('li');
      const symbol = li?.dataset['symbol'];
      if (symbol !== undefined) this.#onSelect(symbol);
    });
    this.#list.addEventListener('keydown', (e) => {
      const li = (e.target as Element).closest('li');
      const symbol = li?.dataset['symbol'];
      const next = symbol === undefined ? undefined : this.#keyTarget(symbol, e.key);
      if (next === undefined) return;
      e.preventDefault();
      const row = this.#rows.get(next)?.el;
      // focus() would centre the row, in the list and in the page. The selection scrolls the list the least instead,
      // and the page moves only when the focused row would be out of sight.
      row?.focus({ preventScroll: true });
      if (next !== this.#selected) this.#onSelect(next);
      row?.scrollIntoView({ block: 'nearest' });
    });
  }

  /** The symbol a key moves to from `symbol`; undefined for a key the list does not handle. */
  #keyTarget(symbol: string, key: string): string | undefined {
    const symbols = this.symbols;
    const at = symbols.indexOf(symbol);
    switch (key) {
      case 'ArrowDown':
        return symbols[Math.min(at + 1, symbols.length - 1)];
      case 'ArrowUp':
        return symbols[Math.max(at - 1, 0)];
      case 'Home':
        return symbols[0];
      case 'End':
        return symbols[symbols.length - 1];
      case 'Enter':
      case ' ':
        return symbol;
      default:
        return undefined;
    }
  }

  get symbols(): string[] {
    return [...this.#rows.keys()];
  }

  /** A full refresh from GET /api/symbols; newer live prices already shown are kept. */
  setSummaries(list: readonly SymbolSummary[]): void {
    for (const s of list) {
      const row = this.#rows.get(s.symbol) ?? this.#addRow(s);
      const shownTs = row.summary.last_ts ?? -Infinity;
      const keepLive = s.last_ts === null || shownTs > s.last_ts;
      row.summary = keepLive
        ? { ...s, last_price: row.summary.last_price, last_ts: row.summary.last_ts, change_pct: changeOf(s.session_open, row.summary.last_price) ?? s.change_pct }
        : s;
      this.#dirty.add(s.symbol);
    }
  }

  /** Symbols named by the stream's hello that the summaries have not listed yet. */
  ensureSymbols(symbols: readonly string[]): void {
    for (const symbol of symbols) {
      if (this.#rows.has(symbol)) continue;
      this.#addRow({ symbol, last_price: null, last_ts: null, session_open: null, change_pct: null, trades_per_s: 0, sparkline: [] });
      this.#dirty.add(symbol);
    }
  }

  /** The newest price per symbol from a stream frame. */
  applyTrades(trades: readonly TradeWire[]): void {
    for (const t of trades) {
      const row = this.#rows.get(t.symbol);
      if (row === undefined || (row.summary.last_ts !== null && t.ts < row.summary.last_ts)) continue;
      const open = row.summary.session_open ?? t.price;
      row.summary = { ...row.summary, last_price: t.price, last_ts: t.ts, session_open: open, change_pct: changeOf(open, t.price) };
      this.#dirty.add(t.symbol);
    }
  }

  /** Marks `symbol` as selected; a newly selected row is scrolled into the list's view. */
  select(symbol: string): void {
    const changed = symbol !== this.#selected;
    this.#selected = symbol;
    for (const [s, row] of this.#rows) {
      row.el.classList.toggle('selected', s === symbol);
      row.el.setAttribute('aria-selected', String(s === symbol));
    }
    this.#moveTabStop();
    if (changed) this.#reveal(symbol);
  }

  /**
   * Scrolls the list, and nothing around it, the least that shows `symbol`'s row whole. scrollIntoView would
   * move the page too: at phone width the list sits below the chart, and a bookmark would open scrolled past it.
   */
  #reveal(symbol: string): void {
    const row = this.#rows.get(symbol);
    if (row === undefined) return;
    const view = this.#scroller.getBoundingClientRect();
    const box = row.el.getBoundingClientRect();
    if (box.top < view.top) this.#scroller.scrollTop -= view.top - box.top;
    else if (box.bottom > view.bottom) this.#scroller.scrollTop += Math.min(box.bottom - view.bottom, box.top - view.top);
  }

  /** The list is one tab stop: the selected row, else the first. */
  #moveTabStop(): void {
    const stop = this.#selected !== undefined && this.#rows.has(this.#selected) ? this.#selected : this.symbols[0];
    for (const [s, row] of this.#rows) row.el.tabIndex = s === stop ? 0 : -1;
  }

  /** While stale, the rates show a dash instead of their last values. */
  setStale(stale: boolean): void {
    this.#stale = stale;
    this.#list.classList.toggle('stale', stale);
    this.#list.title = stale ? 'Last known prices: no fresh data from the server' : '';
    for (const s of this.#rows.keys()) this.#dirty.add(s);
  }

  setPalette(palette: Palette): void {
    this.#palette = palette;
    for (const s of this.#rows.keys()) this.#dirty.add(s);
  }

  get hasWork(): boolean {
    return this.#dirty.size > 0;
  }

  /** Redraws the rows that changed since the last frame. */
  render(): void {
    for (const symbol of this.#dirty) {
      const row = this.#rows.get(symbol);
      if (row === undefined) continue;
      const s = row.summary;
      row.price.textContent = formatPrice(s.last_price);
      row.change.textContent = formatPercent(s.change_pct);
      row.change.className = `change ${directionClass(s.change_pct)}`;
      row.rate.textContent = this.#stale ? '–/s' : `${formatRate(s.trades_per_s)}/s`;
      drawSparkline(row.spark, s.sparkline, s.last_price, this.#palette);
    }
    this.#dirty.clear();
  }

  #addRow(s: SymbolSummary): Row {
    const el = document.createElement('li');
    el.dataset['symbol'] = s.symbol;
    el.setAttribute('role', 'option');
    el.setAttribute('aria-selected', String(s.symbol === this.#selected));
    if (s.symbol === this.#selected) el.classList.add('selected');
    const name = document.createElement('span');
    name.className = 'sym';
    name.textContent = s.symbol;
    name.title = s.symbol;
    const spark = document.createElement('canvas');
    spark.className = 'spark';
    spark.width = SPARK_W * devicePixelRatio;
    spark.height = SPARK_H * devicePixelRatio;
    spark.style.width = `${SPARK_W}px`;
    spark.style.height = `${SPARK_H}px`;
    const price = document.createElement('span');
    price.className = 'price';
    const change = document.createElement('span');
    change.className = 'change';
    const rate = document.createElement('span');
    rate.className = 'rate';
    el.append(name, spark, price, change, rate);
    this.#list.append(el);
    const row: Row = { el, price, change, rate, spark, summary: s };
    this.#rows.set(s.symbol, row);
    this.#moveTabStop();
    return row;
  }
}

function changeOf(open: number | null, last: number | null): number | null {
  if (open === null || last === null || open === 0) return null;
  return ((last - open) / open) * 100;
}

function directionClass(pct: number | null): string {
  if (pct === null || pct === 0) return 'flat';
  return pct > 0 ? 'up' : 'down';
}

function drawSparkline(canvas: HTMLCanvasElement, closes: readonly number[], last: number | null, p: Palette): void {
  const ctx = canvas.getContext('2d');
  if (ctx === null) return;
  const points = last === null ? closes : [...closes, last];
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (points.length < 2) return;
  let min = Infinity;
  let max = -Infinity;
  for (const v of points) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const span = max - min || 1;
  const pad = 2 * devicePixelRatio;
  const w = canvas.width - 2 * pad;
  const h = canvas.height - 2 * pad;
  const first = points[0] as number;
  const end = points[points.length - 1] as number;
  ctx.strokeStyle = end >= first ? p.up : p.down;
  ctx.lineWidth = 1.25 * devicePixelRatio;
  ctx.beginPath();
  points.forEach((v, i) => {
    const x = pad + (i / (points.length - 1)) * w;
    const y = pad + h - ((v - min) / span) * h;
    if (i === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  });
  ctx.stroke();
}
