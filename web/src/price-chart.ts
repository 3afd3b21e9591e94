import {
  CandlestickSeries,
  ColorType,
  createChart,
  HistogramSeries,
  LineSeries,
  TickMarkType,
  type IChartApi,
  type ISeriesApi,
  type LogicalRange,
  type MouseEventParams,
  type Time,
  type UTCTimestamp,
} from 'lightweight-charts';
import type { Interval } from '../../src/domain/interval.ts';
import { api, type BarRecord } from './api.ts';
import { formatBarTime, formatClock, formatPercent, formatPrice, formatQuantity, priceDecimals } from './format.ts';
import { baseIntervalFor, FormingRollup, formingBaseQuery } from './rollup.ts';
import type { Palette } from './theme.ts';

/** Bars asked for per history request (the API's default page). */
const PAGE = 500;
/** Load older bars when fewer than this many are left of the visible range. */
const LOAD_OLDER_MARGIN = 30;

const toTime = (epochMs: number): UTCTimestamp => (epochMs / 1000) as UTCTimestamp;
const toMs = (t: Time): number => (t as number) * 1000;

/**
 * The main chart (lightweight-charts v5): candles, a volume histogram and a VWAP line for one symbol
 * and interval. History comes from GET /api/bars, older pages as the user scrolls left; the forming
 * bar follows the stream. Rolled-up intervals are kept live from their base interval's bars.
 */
export class PriceChart {
  readonly #chart: IChartApi;
  readonly #candles: ISeriesApi<'Candlestick'>;
  readonly #volume: ISeriesApi<'Histogram'>;
  readonly #vwap: ISeriesApi<'Line'>;
  readonly #legend: HTMLElement;
  readonly #status: HTMLElement;
  readonly #host: HTMLElement;
  #palette: Palette;

  #symbol = '';
  #interval: Interval | undefined;
  /** The interval whose stream bars feed this chart: the chart's own, or the base of a roll-up. */
  #feed = '';
  #rollup: FormingRollup | undefined;
  /** Bars shown, ascending by window_start, and an index of them. */
  #bars: BarRecord[] = [];
  readonly #byStart = new Map<number, BarRecord>();
  /** Stream bars of the feed interval received since the last frame (newest version per window). */
  readonly #pending = new Map<number, BarRecord>();
  #loaded = false;
  /** Bumped on every switch, so answers to an earlier symbol's requests are dropped. */
  #generation = 0;
  #loadingOlder = false;
  #noOlder = false;
  #hovered: BarRecord | undefined;
  /** No current data from the server: the legend says the newest bar may not be the latest. */
  #stale = false;
  readonly #onError: (error: unknown) => void;

  constructor(host: HTMLElement, palette: Palette, onError: (error: unknown) => void) {
    this.#host = host;
    this.#palette = palette;
    this.#onError = onError;
    const chartBox = document.createElement('div');
    chartBox.className = 'chart-canvas';
    this.#legend = document.createElement('div');
    this.#legend.className = 'chart-legend';
    this.#status = document.createElement('div');
    this.#status.className = 'chart-status';
    host.append(this.#legend, chartBox, this.#status);

    this.#chart = createChart(chartBox, {
      autoSize: true,
      layout: { fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif', fontSize: 11 },
      // The crosshair's label on the time axis reads as the legend does.
      localization: { timeFormatter: (t: Time) => formatBarTime(toMs(t)) },
      timeScale: {
        timeVisible: true,
        secondsVisible: true,
        rightOffset: 4,
        tickMarkFormatter: (t: Time, type: TickMarkType) => tickLabel(toMs(t), type),
      },
      rightPriceScale: { scaleMargins: { top: 0.06, bottom: 0.26 } },
      crosshair: { mode: 0 },
    });
    this.#candles = this.#chart.addSeries(CandlestickSeries, { priceLineVisible: true });
    this.#vwap = this.#chart.addSeries(LineSeries, {
      lineWidth: 2,
      priceLineVisible: false,
      lastValueVisible: false,
      crosshairMarkerVisible: false,
      title: 'VWAP',
    });
    this.#volume = this.#chart.addSeries(HistogramSeries, {
      priceScaleId: 'volume',
      priceFormat: { type: 'volume' },
      priceLineVisible: false,
      lastValueVisible: false,
    });
    this.#chart.priceScale('volume').applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    this.#chart.timeScale().subscribeVisibleLogicalRangeChange((range) => this.#onRange(range));
    this.#chart.subscribeCrosshairMove((p) => this.#onCrosshair(p));
    this.setPalette(palette);
  }

  get symbol(): string {
    return this.#symbol;
  }

  get interval(): string {
    return this.#interval?.label ?? '';
  }

  /** Shows `symbol` at `interval`: loads its history, then follows the stream. */
  async show(symbol: string, interval: Interval, engine: readonly Interval[]): Promise<void> {
    const generation = ++this.#generation;
    this.#symbol = symbol;
    this.#interval = interval;
    const isEngine = engine.some((i) => i.label === interval.label);
    const base = isEngine ? undefined : baseIntervalFor(interval, engine);
    this.#rollup = base === undefined ? undefined : new FormingRollup(symbol, interval, base);
    this.#feed = base?.label ?? (isEngine ? interval.label : '');
    this.#pending.clear();
    this.#loaded = false;
    this.#noOlder = false;
    this.#hovered = undefined;
    this.#host.dataset['symbol'] = symbol;
    this.#host.dataset['interval'] = interval.label;
    this.#setStatus('Loading…');
    this.#replace([]);

    let history: BarRecord[];
    let baseBars: BarRecord[];
    try {
      [history, baseBars] = await Promise.all([
        api.bars({ symbol, interval: interval.label, limit: PAGE }),
        base === undefined ? Promise.resolve([]) : api.bars({ symbol, ...formingBaseQuery(interval, base) }),
      ]);
    } catch (e) {
      // A load that another has replaced fails silently; else the plot says it failed, not "Loading…" for ever,
      // and the caller reports why and tries again.
      if (generation !== this.#generation) return;
      this.#setStatus('The bars could not be loaded; trying again…');
      throw e;
    }
    if (generation !== this.#generation) return;
    for (const b of baseBars) this.#rollup?.apply(b);
    this.#replace(history);
    this.#noOlder = history.length < PAGE;
    this.#loaded = true;
    this.#setStatus(history.length === 0 ? 'No bars yet; waiting for trades…' : '');
    this.#chart.timeScale().scrollToRealTime();
    this.#flushPending();
  }

  /** Takes bars from a stream frame; the chart's own are applied in the next animation frame. */
  addStreamBars(bars: readonly BarRecord[]): void {
    for (const b of bars) {
      if (b.symbol !== this.#symbol || b.interval !== this.#feed) continue;
      this.#pending.set(b.window_start, b);
    }
  }

  get hasWork(): boolean {
    return this.#loaded && this.#pending.size > 0;
  }

  render(): void {
    if (this.#loaded) this.#flushPending();
  }

  setPalette(p: Palette): void {
    this.#palette = p;
    this.#chart.applyOptions({
      layout: { background: { type: ColorType.Solid, color: p.background }, textColor: p.text, attributionLogo: true },
      grid: { vertLines: { color: p.grid }, horzLines: { color: p.grid } },
      rightPriceScale: { borderColor: p.grid },
      timeScale: { borderColor: p.grid },
    });
    this.#candles.applyOptions({
      upColor: p.up,
      downColor: p.down,
      borderUpColor: p.up,
      borderDownColor: p.down,
      wickUpColor: p.up,
      wickDownColor: p.down,
    });
    this.#vwap.applyOptions({ color: p.vwap });
    this.#volume.setData(this.#bars.map((b) => this.#volumePoint(b)));
  }

  #flushPending(): void {
    if (this.#pending.size === 0) return;
    const updates = [...this.#pending.values()].sort((a, b) => a.window_start - b.window_start);
    this.#pending.clear();
    for (const bar of updates) {
      const shown = this.#rollup === undefined ? bar : this.#rollup.apply(bar);
      if (shown !== undefined) this.#upsert(shown);
    }
    if (this.#bars.length > 0) this.#setStatus('');
    this.#renderLegend();
  }

  #upsert(bar: BarRecord): void {
    const last = this.#bars[this.#bars.length - 1];
    const known = this.#byStart.has(bar.window_start);
    if (last !== undefined && bar.window_start < last.window_start && !known) {
      // A bar older than the newest one shown, never seen before (a gap in history): the series cannot insert it
      // in place, and it only matters once the user looks back, where a reload shows it.
      return;
    }
    const historical = last !== undefined && bar.window_start < last.window_start;
    this.#byStart.set(bar.window_start, bar);
    if (known) {
      const i = this.#indexOf(bar.window_start);
      if (i >= 0) this.#bars[i] = bar;
    } else {
      this.#bars.push(bar);
    }
    const time = toTime(bar.window_start);
    this.#candles.update({ time, open: bar.open, high: bar.high, low: bar.low, close: bar.close }, historical);
    this.#volume.update(this.#volumePoint(bar), historical);
    this.#vwap.update(bar.vwap === null ? { time } : { time, value: bar.vwap }, historical);
  }

  #indexOf(windowStart: number): number {
    for (let i = this.#bars.length - 1; i >= 0; i--) if (this.#bars[i]?.window_start === windowStart) return i;
    return -1;
  }

  #replace(bars: readonly BarRecord[]): void {
    this.#bars = [...bars].sort((a, b) => a.window_start - b.window_start);
    this.#byStart.clear();
    for (const b of this.#bars) this.#byStart.set(b.window_start, b);
    const first = this.#bars[0];
    const precision = first === undefined ? 2 : priceDecimals(first.close);
    const priceFormat = { type: 'price' as const, precision, minMove: 10 ** -precision };
    this.#candles.applyOptions({ priceFormat });
    this.#vwap.applyOptions({ priceFormat });
    // One legend cell holds "H " and a price of this symbol; the title, time and VWAP take two.
    const highest = this.#bars.reduce((m, b) => Math.max(m, b.high), 0);
    this.#legend.style.setProperty('--legend-cell', `${Math.max(7, formatPrice(highest).length + 3)}ch`);
    this.#candles.setData(this.#bars.map((b) => ({ time: toTime(b.window_start), open: b.open, high: b.high, low: b.low, close: b.close })));
    this.#volume.setData(this.#bars.map((b) => this.#volumePoint(b)));
    this.#vwap.setData(this.#bars.map((b) => (b.vwap === null ? { time: toTime(b.window_start) } : { time: toTime(b.window_start), value: b.vwap })));
    this.#renderLegend();
  }

  #volumePoint(b: BarRecord): { time: UTCTimestamp; value: number; color: string } {
    return { time: toTime(b.window_start), value: b.volume, color: b.close >= b.open ? this.#palette.upFaint : this.#palette.downFaint };
  }

  #onRange(range: LogicalRange | null): void {
    if (range === null || !this.#loaded || this.#loadingOlder || this.#noOlder || this.#bars.length === 0) return;
    if (range.from > LOAD_OLDER_MARGIN) return;
    void this.#loadOlder().catch((e: unknown) => {
      this.#loadingOlder = false;
      this.#onError(e);
    });
  }

  async #loadOlder(): Promise<void> {
    const oldest = this.#bars[0];
    const interval = this.#interval;
    if (oldest === undefined || interval === undefined) return;
    const generation = this.#generation;
    this.#loadingOlder = true;
    const older = await api.bars({ symbol: this.#symbol, interval: interval.label, to: oldest.window_start, limit: PAGE });
    this.#loadingOlder = false;
    if (generation !== this.#generation) return;
    if (older.length < PAGE) this.#noOlder = true;
    const fresh = older.filter((b) => !this.#byStart.has(b.window_start));
    if (fresh.length === 0) return;
    this.#replace([...fresh, ...this.#bars]);
  }

  #onCrosshair(p: MouseEventParams): void {
    this.#hovered = p.time === undefined ? undefined : this.#byStart.get(toMs(p.time));
    this.#renderLegend();
  }

  /** While the live stream is down or stalled, the legend marks the bars as not live. */
  setStale(stale: boolean): void {
    if (stale === this.#stale) return;
    this.#stale = stale;
    this.#host.classList.toggle('stale', stale);
    this.#renderLegend();
  }

  #renderLegend(): void {
    const b = this.#hovered ?? this.#bars[this.#bars.length - 1];
    const head = `${this.#symbol} · ${this.interval}`;
    if (b === undefined) {
      this.#legend.textContent = head;
      return;
    }
    const change = b.open === 0 ? null : ((b.close - b.open) / b.open) * 100;
    const cls = b.close >= b.open ? 'up' : 'down';
    this.#legend.replaceChildren(
      span(head, 'legend-title'),
      span(formatBarTime(b.window_start), 'legend-time'),
      span(`O ${formatPrice(b.open)}`),
      span(`H ${formatPrice(b.high)}`),
      span(`L ${formatPrice(b.low)}`),
      span(`C ${formatPrice(b.close)}`, `legend-close ${cls}`),
      span(formatPercent(change), cls),
      span(`V ${formatQuantity(b.volume)}`),
      span(`VWAP ${formatPrice(b.vwap)}`, 'legend-vwap'),
      this.#stale ? span('not live', 'legend-stale') : '',
    );
  }

  #setStatus(text: string): void {
    this.#status.textContent = text;
    this.#status.hidden = text === '';
  }
}

function span(text: string, className = ''): HTMLSpanElement {
  const s = document.createElement('span');
  s.textContent = text;
  if (className !== '') s.className = className;
  return s;
}

const pad = (n: number): string => n.toString().padStart(2, '0');

/** Time-axis labels in the viewer's local time (the chart itself thinks in UTC). */
function tickLabel(epochMs: number, type: TickMarkType): string {
  const d = new Date(epochMs);
  switch (type) {
    case TickMarkType.Year:
      return String(d.getFullYear());
    case TickMarkType.Month:
      return d.toLocaleString(undefined, { month: 'short' });
    case TickMarkType.DayOfMonth:
      return d.toLocaleString(undefined, { month: 'short', day: 'numeric' });
    case TickMarkType.Time:
      return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
    case TickMarkType.TimeWithSeconds:
      return formatClock(epochMs);
    default: {
      const never: never = type;
      return String(never);
    }
  }
}
