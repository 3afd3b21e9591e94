import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { StatsWire } from './api.ts';
import { formatLatency, formatMs, formatQuantity, formatRate } from './format.ts';
import type { Palette } from './theme.ts';

/** Seconds of history each plot keeps (one point per stats frame, about one a second). */
const HISTORY_POINTS = 120;

interface SeriesSpec {
  readonly label: string;
  readonly color: (p: Palette) => string;
  /** null leaves a gap: a value this process does not have. */
  readonly value: (s: StatsWire) => number | null;
}

interface PlotSpec {
  readonly id: string;
  readonly title: string;
  readonly series: readonly SeriesSpec[];
  readonly readout: (s: StatsWire) => string;
}

const PLOTS: readonly PlotSpec[] = [
  {
    id: 'ingest',
    title: 'Ingest',
    series: [{ label: 'trades/s', color: (p) => p.accent, value: (s) => s.rates.received_per_s }],
    readout: (s) => `${formatRate(s.rates.received_per_s)} trades/s`,
  },
  {
    id: 'rejects',
    title: 'Invalid · late',
    series: [
      { label: 'invalid', color: (p) => p.down, value: (s) => s.invalid },
      { label: 'late', color: (p) => p.vwap, value: (s) => s.late },
    ],
    readout: (s) => `${formatQuantity(s.invalid)} · ${formatQuantity(s.late)}`,
  },
  {
    id: 'lag',
    title: 'Log lag',
    series: [{ label: 'records', color: (p) => p.accent, value: (s) => s.log_lag }],
    readout: (s) => (s.log_lag !== null ? `${formatQuantity(s.log_lag)} records` : lagUnknown(s)),
  },
  {
    id: 'latency',
    title: 'Latency p50 · p99',
    series: [
      { label: 'p50', color: (p) => p.up, value: (s) => (latencyKnown(s) ? s.latency_ms.p50 : null) },
      { label: 'p99', color: (p) => p.down, value: (s) => (latencyKnown(s) ? s.latency_ms.p99 : null) },
    ],
    readout: (s) => (fromKafka(s) ? 'measured by the process role' : formatLatency(s.latency_ms)),
  },
];

/** Why there is no lag to show: a serve role's view from Kafka, or the Spark engine of this process before its first batch. */
function lagUnknown(s: StatsWire): string {
  const view = s.kafka_view;
  if (view === undefined) return 'unknown: no Spark batch yet, or Kafka not answering';
  return view.group === null ? "in Spark's checkpoint" : 'no offsets committed';
}

/** A latency to show: this process measures it (not a serve role reading Kafka) and has stored a trade; 0 ms would say it is instant. */
function latencyKnown(s: StatsWire): boolean {
  return !fromKafka(s) && s.latency_ms.count > 0;
}

/** True when the server only serves and reads the pipeline's counts from Kafka (no latency of its own). */
function fromKafka(s: StatsWire): boolean {
  return s.counts_from === 'kafka';
}

/** The line under the plots of a serve role: where its counts come from (a failed reading is an alert, see alerts.ts). */
export function countsSourceLine(s: StatsWire): string {
  const view = s.kafka_view;
  if (!fromKafka(s) || view === undefined) return '';
  const appended = `Counts from Kafka's offsets: trades appended to ${view.topic}`;
  return view.group === null ? `${appended}; the Spark engine keeps its read offsets in its checkpoint` : `${appended}, and the lag of the engine's group ${view.group}`;
}

/** One Spark query's progress as `/api/stats` and the stream's stats carry it under `spark.queries` (the Spark engine only). */
interface SparkQueryWire {
  readonly name: string;
  readonly active: boolean;
  readonly input_rows_per_s: number | null;
  readonly batch_duration_ms: number | null;
  readonly watermark: string | null;
  readonly exception: string | null;
}

/** The Spark queries of a stats frame; empty when the process runs the TS engine (no `spark` field). */
function sparkQueries(s: StatsWire): SparkQueryWire[] {
  const queries = s.spark?.queries;
  if (!Array.isArray(queries)) return [];
  return (queries as Partial<SparkQueryWire>[]).filter((q): q is SparkQueryWire => typeof q.name === 'string');
}

/** One line per query: rows/s read, the last batch's duration and the watermark, or why it stopped. */
function sparkLine(q: SparkQueryWire): string {
  const name = q.name.replace(/^tickstream-/, '');
  if (!q.active) return `${name} · stopped${q.exception === null ? '' : `: ${q.exception}`}`;
  const parts = [name, q.input_rows_per_s === null ? 'no batch yet' : `${formatRate(q.input_rows_per_s)} rows/s`];
  if (q.batch_duration_ms !== null) parts.push(`batch ${formatMs(q.batch_duration_ms)}`);
  if (q.watermark !== null) parts.push(`watermark ${q.watermark.slice(11, 19)} UTC`);
  return parts.join(' · ');
}

interface Card {
  readonly spec: PlotSpec;
  readonly readout: HTMLElement;
  readonly plotBox: HTMLElement;
  plot: uPlot | undefined;
}

/** Pipeline health as small live plots (uPlot): ingest rate, invalid and late counts, log lag, end-to-end latency. */
export class HealthPlots {
  readonly #container: HTMLElement;
  readonly #cards: Card[] = [];
  /** Column 0 is time in seconds; then one column per series of every plot, in PLOTS order. */
  readonly #columns: (number | null)[][];
  #latest: StatsWire | undefined;
  #dirty = false;
  #palette: Palette;
  readonly #resize: ResizeObserver;
  /** Spark's queries, a line each, shown only while the stats carry them. */
  readonly #spark: HTMLElement;
  #sparkText = '';
  /** Where the counts come from, when not from this process (a serve role reading Kafka). */
  readonly #countsSource: HTMLElement;
  #stale = false;

  constructor(container: HTMLElement, palette: Palette) {
    this.#container = container;
    this.#palette = palette;
    const seriesCount = PLOTS.reduce((n, p) => n + p.series.length, 0);
    this.#columns = Array.from({ length: seriesCount + 1 }, () => []);
    for (const spec of PLOTS) {
      const card = document.createElement('div');
      card.className = 'health-card';
      card.dataset['plot'] = spec.id;
      const head = document.createElement('div');
      head.className = 'health-head';
      const title = document.createElement('span');
      title.textContent = spec.title;
      const readout = document.createElement('span');
      readout.className = 'readout';
      readout.textContent = '–';
      head.append(title, readout);
      const plotBox = document.createElement('div');
      plotBox.className = 'health-plot';
      card.append(head, plotBox);
      container.append(card);
      this.#cards.push({ spec, readout, plotBox, plot: undefined });
    }
    this.#spark = document.createElement('div');
    this.#spark.className = 'health-spark';
    this.#spark.hidden = true;
    container.append(this.#spark);
    this.#countsSource = document.createElement('div');
    this.#countsSource.className = 'health-source';
    this.#countsSource.hidden = true;
    container.append(this.#countsSource);
    this.#resize = new ResizeObserver(() => {
      for (const c of this.#cards) c.plot?.setSize(this.#sizeOf(c));
    });
    for (const c of this.#cards) this.#resize.observe(c.plotBox);
    this.#build();
  }

  /** Records one stats frame; drawn in the next animation frame. */
  push(s: StatsWire, nowMs: number): void {
    this.#latest = s;
    const values = [nowMs / 1000, ...PLOTS.flatMap((p) => p.series.map((x) => x.value(s)))];
    values.forEach((v, i) => {
      const col = this.#columns[i] as (number | null)[];
      col.push(v);
      if (col.length > HISTORY_POINTS) col.shift();
    });
    this.#dirty = true;
  }

  /** While stale, the readouts show a dash instead of their last values and the panel is greyed. */
  setStale(stale: boolean): void {
    this.#stale = stale;
    this.#container.classList.toggle('stale', stale);
    this.#dirty = true;
  }

  get hasWork(): boolean {
    return this.#dirty;
  }

  render(): void {
    if (!this.#dirty) return;
    this.#dirty = false;
    const s = this.#latest;
    let col = 1;
    for (const c of this.#cards) {
      if (s !== undefined) c.readout.textContent = this.#stale ? '–' : c.spec.readout(s);
      const data: uPlot.AlignedData = [this.#columns[0] as number[], ...c.spec.series.map((_, i) => this.#columns[col + i] as (number | null)[])];
      col += c.spec.series.length;
      c.plot?.setData(data);
    }
    if (s !== undefined) {
      this.#renderSpark(sparkQueries(s));
      const line = countsSourceLine(s);
      this.#countsSource.hidden = line === '';
      if (this.#countsSource.textContent !== line) this.#countsSource.textContent = line;
    }
  }

  #renderSpark(queries: readonly SparkQueryWire[]): void {
    const lines = queries.map(sparkLine);
    const text = lines.join('\n');
    if (text === this.#sparkText) return;
    this.#sparkText = text;
    this.#spark.hidden = lines.length === 0;
    this.#spark.replaceChildren(
      ...queries.map((q, i) => {
        const line = document.createElement('div');
        line.className = q.active ? 'spark-query' : 'spark-query stopped';
        line.textContent = lines[i] ?? '';
        return line;
      }),
    );
  }

  setPalette(p: Palette): void {
    this.#palette = p;
    this.#build();
    this.#dirty = true;
    this.render();
  }

  #sizeOf(c: Card): { width: number; height: number } {
    return { width: Math.max(120, Math.floor(c.plotBox.clientWidth)), height: 64 };
  }

  /** (Re)creates the plots; uPlot takes its colours at construction. */
  #build(): void {
    const p = this.#palette;
    for (const c of this.#cards) {
      c.plot?.destroy();
      const axis: uPlot.Axis = { stroke: p.muted, grid: { stroke: p.grid, width: 1 }, ticks: { show: false }, font: '10px system-ui, sans-serif', size: 36 };
      const opts: uPlot.Options = {
        ...this.#sizeOf(c),
        legend: { show: false },
        cursor: { show: false },
        scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] } },
        axes: [{ show: false }, axis],
        series: [{}, ...c.spec.series.map((x) => ({ label: x.label, stroke: x.color(p), width: 1.5, points: { show: false } }))],
      };
      c.plot = new uPlot(opts, [[], ...c.spec.series.map(() => [])], c.plotBox);
    }
  }
}
