import './styles.css';
import { parseInterval, type Interval } from '../../src/domain/interval.ts';
import { withoutBidiControls } from './bidi-controls.ts';
import { addressNotice, problems, sourceLabel, sourceTone, statsAreStale, streamStalledMs, type Selection } from './alerts.ts';
import { api, type IntervalLists, type SourceStatus, type StatsWire } from './api.ts';
import { FrameBatcher } from './frame-batcher.ts';
import { HealthPlots } from './health.ts';
import { isKafkaRoute, mountKafkaConsole } from './kafka-console.ts';
import { PriceChart } from './price-chart.ts';
import { LiveStream, type StreamState } from './stream.ts';
import { Tape } from './tape.ts';
import { Theme } from './theme.ts';
import { Watchlist } from './watchlist.ts';

/** How often the watchlist's rates and sparklines are refreshed from GET /api/symbols. */
const SYMBOLS_REFRESH_MS = 2_000;
const TAPE_HISTORY = 100;
/** How long the first load waits for the stream's hello before it goes ahead without it. */
const HELLO_WAIT_MS = 1_500;
/** Stats frames kept for the banner's "recently" checks (about one a second). */
const STATS_HISTORY = 30;
/** How long an error or a notice stays on the banner. */
const NOTICE_MS = 10_000;
/** How long after a failed load of the chart or the tape it is tried again. */
const RELOAD_MS = 5_000;

function element<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`index.html has no #${id}`);
  return el as T;
}

function toIntervals(labels: readonly string[]): Interval[] {
  const out: Interval[] = [];
  for (const label of labels) {
    const i = parseInterval(label);
    if (i !== undefined && !out.some((o) => o.label === i.label)) out.push(i);
  }
  return out.sort((a, b) => a.ms - b.ms);
}

/** Selection kept in the address (#symbol=AAPL&interval=1m) so a reload or a shared link shows the same chart. */
function readSelection(): Selection {
  const params = new URLSearchParams(location.hash.slice(1));
  const symbol = params.get('symbol') ?? '';
  const interval = params.get('interval') ?? '';
  return { ...(symbol === '' ? {} : { symbol }), ...(interval === '' ? {} : { interval }) };
}

function writeSelection(symbol: string, interval: string): void {
  // The Kafka console owns the address while it shows.
  if (isKafkaRoute()) return;
  const params = new URLSearchParams({ symbol, interval });
  history.replaceState(null, '', `#${params.toString()}`);
}

class Dashboard {
  readonly #theme = new Theme(localStorage, (q) => matchMedia(q));
  readonly #frames = new FrameBatcher((e) => this.#reportError(e));
  readonly #watchlist: Watchlist;
  readonly #chart: PriceChart;
  readonly #tape: Tape;
  readonly #health: HealthPlots;
  readonly #banner = element('banner');
  readonly #sourceBadge = element('source-status');
  readonly #streamBadge = element('stream-status');
  readonly #intervalBar = element('intervals');
  readonly #tapeTitle = element('tape-symbol');

  #engine: Interval[] = [];
  #intervals: Interval[] = [];
  #interval: Interval | undefined;
  #streamState: StreamState = 'connecting';
  #source: SourceStatus | undefined;
  readonly #stats: { atMs: number; stats: StatsWire }[] = [];
  #streamOpenedAtMs = 0;
  /** An error or a notice on the banner beside what is wrong now; empty for none. */
  #notice = '';
  /** The source badge and the rates show stats that may no longer be current. */
  #stale = false;
  /** The next try after a load of the chart or the tape failed (a store that answered 503, a server restarting). */
  #reloadTimer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    const p = this.#theme.palette;
    this.#watchlist = new Watchlist(element('watchlist'), p, (s) => this.select(s));
    this.#chart = new PriceChart(element('chart'), p, (e) => this.#reportError(e));
    this.#tape = new Tape(element('tape'));
    this.#health = new HealthPlots(element('health'), p);
    this.#theme.onChange((palette) => {
      this.#watchlist.setPalette(palette);
      this.#chart.setPalette(palette);
      this.#health.setPalette(palette);
      this.#frames.request(this.#renderWatchlist);
    });
    element('theme-toggle').addEventListener('click', () => this.#theme.toggle());
    this.#intervalBar.addEventListener('keydown', (e) => this.#onIntervalKey(e));
  }

  async start(): Promise<void> {
    const [config, symbols] = await Promise.all([api.config(), api.symbols()]);
    mountKafkaConsole({
      tab: element<HTMLAnchorElement>('kafka-tab'),
      dashboardTab: element<HTMLAnchorElement>('dashboard-tab'),
      dashboard: element('dashboard'),
      root: element('kafka-console'),
      available: config['profile'] === 'cluster',
    });
    this.#setIntervals(config.intervals);
    this.#watchlist.setSummaries(symbols);
    this.#frames.request(this.#renderWatchlist);

    const wanted = readSelection();
    const first = symbols[0]?.symbol;
    const symbol = wanted.symbol !== undefined && symbols.some((s) => s.symbol === wanted.symbol) ? wanted.symbol : first;
    const interval = this.#intervals.find((i) => i.label === wanted.interval) ?? this.#engine[0] ?? this.#intervals[0];
    this.#interval = interval;
    this.#renderIntervalBar();
    // The stream opens before the chart and the tape load, so a bar that changes while they load
    // comes in a frame. Its hello is awaited for a moment only: a slower one reloads what was shown.
    const hello = this.#openStream();
    await Promise.race([hello, new Promise((resolve) => setTimeout(resolve, HELLO_WAIT_MS))]);
    if (symbol !== undefined && interval !== undefined) this.#noteAddress(wanted, symbol, interval);
    if (symbol !== undefined) await this.select(symbol);
    window.addEventListener('hashchange', () => void this.#followAddress());

    setInterval(() => void this.#refreshSymbols(), SYMBOLS_REFRESH_MS);
    // The banner's "recently" wording and the stream-stall check depend on the clock, not only on events.
    setInterval(() => this.#renderStatus(), 1_000);
    this.#renderStatus();
  }

  async select(symbol: string): Promise<void> {
    const interval = this.#interval;
    if (interval === undefined) return;
    clearTimeout(this.#reloadTimer);
    this.#watchlist.select(symbol);
    this.#tapeTitle.textContent = symbol;
    // The old symbol's rows go now, not when the history arrives: the title already names the new one.
    this.#tape.reset(symbol);
    writeSelection(symbol, interval.label);
    try {
      const [, trades] = await Promise.all([
        this.#chart.show(symbol, interval, this.#engine),
        api.trades({ symbol, limit: TAPE_HISTORY }),
      ]);
      this.#tape.history(symbol, trades);
      this.#frames.request(this.#renderTape);
    } catch (e) {
      this.#loadFailed(e, symbol);
    }
  }

  /** Reports a failed load and loads the same chart again a little later, unless another is chosen meanwhile. */
  #loadFailed(e: unknown, symbol: string): void {
    this.#reportError(e);
    const interval = this.#interval?.label;
    clearTimeout(this.#reloadTimer);
    this.#reloadTimer = setTimeout(() => {
      if (this.#chart.symbol === symbol && this.#interval?.label === interval) void this.select(symbol);
    }, RELOAD_MS);
  }

  async #changeInterval(interval: Interval): Promise<void> {
    this.#interval = interval;
    this.#markActiveInterval();
    const symbol = this.#chart.symbol;
    if (symbol === '') return;
    writeSelection(symbol, interval.label);
    clearTimeout(this.#reloadTimer);
    try {
      await this.#chart.show(symbol, interval, this.#engine);
    } catch (e) {
      this.#loadFailed(e, symbol);
    }
  }

  /** The address edited in an open tab: shows the symbol and interval it names; a part the dashboard lacks keeps what shows. */
  async #followAddress(): Promise<void> {
    // The Kafka console owns the address while it shows.
    if (isKafkaRoute()) return;
    const wanted = readSelection();
    const symbol = wanted.symbol !== undefined && this.#watchlist.symbols.includes(wanted.symbol) ? wanted.symbol : this.#chart.symbol;
    const interval = this.#intervals.find((i) => i.label === wanted.interval) ?? this.#interval;
    if (symbol === '' || interval === undefined) return;
    this.#noteAddress(wanted, symbol, interval);
    if (symbol !== this.#chart.symbol) {
      this.#interval = interval;
      this.#markActiveInterval();
      await this.select(symbol);
    } else if (interval.label !== this.#interval?.label) {
      await this.#changeInterval(interval);
    } else {
      writeSelection(symbol, interval.label);
    }
  }

  /** Names on the banner what the address asked for that is not here, and what shows instead. */
  #noteAddress(wanted: Selection, symbol: string, interval: Interval): void {
    const notice = addressNotice(wanted, { symbol, interval: interval.label });
    if (notice !== undefined) this.#notify(notice);
  }

  #setIntervals(lists: IntervalLists): void {
    this.#engine = toIntervals(lists.engine);
    this.#intervals = toIntervals([...lists.engine, ...lists.rollup]);
  }

  #renderIntervalBar(): void {
    const buttons = this.#intervals.map((i) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = i.label;
      b.dataset['interval'] = i.label;
      b.setAttribute('role', 'tab');
      b.setAttribute('aria-controls', 'chart');
      b.title = this.#engine.some((e) => e.label === i.label) ? `${i.label} bars from the engine` : `${i.label} bars rolled up from smaller bars`;
      b.addEventListener('click', () => void this.#changeInterval(i));
      return b;
    });
    this.#intervalBar.replaceChildren(...buttons);
    this.#markActiveInterval();
  }

  /** Updates the buttons in place: re-creating them would take the keyboard focus off the pressed one. */
  #markActiveInterval(): void {
    for (const b of this.#intervalBar.querySelectorAll('button')) {
      const active = b.dataset['interval'] === this.#interval?.label;
      b.classList.toggle('active', active);
      b.setAttribute('aria-selected', String(active));
      // The tab list is one tab stop, on the active interval; the arrow keys move within it.
      b.tabIndex = active ? 0 : -1;
    }
  }

  /** Left and Right (wrapping), Home and End move to another interval and show it, as in any tab list. */
  #onIntervalKey(e: KeyboardEvent): void {
    const at = this.#intervals.findIndex((i) => i.label === (e.target as HTMLElement).dataset['interval']);
    if (at < 0) return;
    const n = this.#intervals.length;
    const to = { ArrowRight: (at + 1) % n, ArrowLeft: (at - 1 + n) % n, Home: 0, End: n - 1 }[e.key];
    const interval = to === undefined ? undefined : this.#intervals[to];
    if (interval === undefined) return;
    e.preventDefault();
    this.#intervalBar.querySelector<HTMLButtonElement>(`button[data-interval="${interval.label}"]`)?.focus();
    if (interval.label !== this.#interval?.label) void this.#changeInterval(interval);
  }

  /** Opens the live stream; resolves at its first hello. */
  #openStream(): Promise<void> {
    let helloed: () => void = () => {};
    const hello = new Promise<void>((resolve) => (helloed = resolve));
    new LiveStream('api/stream', {
      hello: (h) => {
        helloed();
        this.#watchlist.ensureSymbols(h.symbols);
        if (this.#engine.length === 0) {
          this.#setIntervals(h.intervals);
          this.#renderIntervalBar();
        }
        // What was loaded before this hello (after a reconnect, or when the first hello came late)
        // may have changed before the stream began: reload it instead of leaving a stale bar.
        if (this.#chart.symbol !== '') void this.select(this.#chart.symbol);
        this.#frames.request(this.#renderWatchlist);
      },
      bars: (bars) => {
        this.#chart.addStreamBars(bars);
        if (this.#chart.hasWork) this.#frames.request(this.#renderChart);
      },
      trades: (trades) => {
        this.#watchlist.applyTrades(trades);
        this.#tape.add(trades);
        this.#frames.request(this.#renderWatchlist);
        if (this.#tape.hasWork) this.#frames.request(this.#renderTape);
      },
      stats: (s) => this.#onStats(s),
      state: (state) => {
        if (state === 'open' && this.#streamState !== 'open') this.#streamOpenedAtMs = Date.now();
        this.#streamState = state;
        this.#renderStatus();
      },
      malformed: (event) => this.#reportError(new Error(`a malformed "${event}" frame from the stream was skipped`)),
    });
    return hello;
  }

  #onStats(s: StatsWire): void {
    const now = Date.now();
    this.#stats.push({ atMs: now, stats: s });
    if (this.#stats.length > STATS_HISTORY) this.#stats.shift();
    this.#health.push(s, now);
    if (s.source !== undefined) this.#source = s.source;
    else void this.#refreshSource();
    this.#frames.request(this.#renderHealth);
    this.#renderStatus();
  }

  /** The stream's stats frame may leave out the source; /api/stats always has it. */
  async #refreshSource(): Promise<void> {
    try {
      const s = await api.stats();
      if (s.source !== undefined) this.#source = s.source;
      this.#renderStatus();
    } catch (e) {
      this.#reportError(e);
    }
  }

  async #refreshSymbols(): Promise<void> {
    // While the stream is down the banner says so, and the watchlist shows as stale; it refreshes when the stream is back.
    if (document.hidden || this.#streamState !== 'open') return;
    try {
      this.#watchlist.setSummaries(await api.symbols());
      this.#frames.request(this.#renderWatchlist);
    } catch (e) {
      this.#reportError(e);
    }
  }

  readonly #renderWatchlist = (): void => this.#watchlist.render();
  readonly #renderChart = (): void => this.#chart.render();
  readonly #renderTape = (): void => this.#tape.render();
  readonly #renderHealth = (): void => this.#health.render();

  #renderStatus(): void {
    const health = { stream: this.#streamState, streamOpenedAtMs: this.#streamOpenedAtMs, source: this.#source, history: this.#stats, nowMs: Date.now() };
    const issues = problems(health);
    const live = this.#streamState === 'open' && streamStalledMs(health) === undefined;
    if (this.#notice !== '') issues.push(this.#notice);
    this.#banner.hidden = issues.length === 0;
    // Symbols from the address and messages from the server may hold bidirectional controls.
    this.#banner.textContent = withoutBidiControls(issues.join(' · '));
    const stale = statsAreStale(health);
    this.#sourceBadge.textContent = stale ? `${sourceLabel(this.#source)} · stale` : sourceLabel(this.#source);
    const tone = sourceTone(this.#source);
    this.#sourceBadge.className = `badge ${stale ? 'stale' : tone === 'neutral' ? '' : tone}`;
    this.#sourceBadge.title = stale ? 'Last known state: no fresh stats from the server' : (this.#source?.detail ?? '');
    if (stale !== this.#stale) this.#setStale(stale);
    this.#streamBadge.textContent = live ? 'live' : this.#streamState === 'open' ? 'stalled' : this.#streamState;
    this.#streamBadge.className = `badge ${live ? 'ok' : 'bad'}`;
  }

  #setStale(stale: boolean): void {
    this.#stale = stale;
    this.#watchlist.setStale(stale);
    this.#health.setStale(stale);
    this.#chart.setStale(stale);
    this.#frames.request(this.#renderWatchlist);
    this.#frames.request(this.#renderHealth);
    // The watchlist's rates come from GET /api/symbols: fetch them now rather than show old ones for up to SYMBOLS_REFRESH_MS.
    if (!stale) void this.#refreshSymbols();
  }

  #reportError(e: unknown): void {
    const message = e instanceof Error ? e.message : String(e);
    console.warn(message);
    this.#notify(message);
  }

  /** Puts `message` on the banner for NOTICE_MS, unless another replaces it first. */
  #notify(message: string): void {
    this.#notice = message;
    this.#renderStatus();
    // The status renders every second: the message goes with the first render after its time.
    setTimeout(() => {
      if (this.#notice === message) this.#notice = '';
    }, NOTICE_MS);
  }
}

void new Dashboard().start().catch((e: unknown) => {
  const banner = document.getElementById('banner');
  if (banner !== null) {
    banner.hidden = false;
    banner.textContent = withoutBidiControls(`The dashboard could not start: ${e instanceof Error ? e.message : String(e)}`);
  }
  console.warn(e);
});
