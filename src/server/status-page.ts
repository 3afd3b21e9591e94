import type { StatsSnapshot } from '../observability/index.ts';
import type { SourceStatus } from '../source/source.ts';

const escape = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/**
 * What the page shows: the `/api/stats` body, that is the snapshot with what `extraStats` puts
 * over it. A serve role reading the pipeline from Kafka puts its counts over its own idle ones
 * (`counts_from: "kafka"`, see src/app/kafka-view.ts). The lag may be unknown (null) there, and
 * under the Spark engine before its first micro-batch.
 */
export type StatusStats = Omit<StatsSnapshot, 'log_lag'> & {
  readonly source: SourceStatus;
  readonly log_lag: number | null;
  readonly counts_from?: string;
  readonly kafka_view?: { readonly group: string | null; readonly error: string | null };
};

/** The page at `/` when the dashboard is not built: what is running, and links to the API. */
export function statusPage(o: { stats: StatusStats; symbols: readonly string[]; intervals: readonly string[] }): string {
  const { stats } = o;
  const fromKafka = stats.counts_from === 'kafka';
  const group = stats.kafka_view?.group ?? null;
  const error = stats.kafka_view?.error ?? null;
  const rows: [string, string | number][] = [
    ['source', `${stats.source.kind} · ${stats.source.state} · ${stats.source.detail}`],
    ['uptime', `${stats.uptime_s} s`],
  ];
  if (fromKafka) rows.push(['counts from', error === null ? `Kafka's offsets${group === null ? '' : ` (engine group ${group})`}` : `Kafka, not answering: ${error}`]);
  rows.push(['received', `${stats.received} (${stats.rates.received_per_s}/s)`], ['processed', `${stats.processed} (${stats.rates.processed_per_s}/s)`]);
  // A serve role stores nothing itself.
  if (!fromKafka) rows.push(['trades stored', stats.trades_stored], ['bars stored', stats.bars_stored]);
  rows.push(
    ['invalid / late', `${stats.invalid} / ${stats.late}`],
    ['log lag', stats.log_lag ?? '–'],
    [
      'latency p50 / p99',
      fromKafka ? 'measured by the process role' : stats.latency_ms.count === 0 ? 'no trade stored yet' : `${stats.latency_ms.p50} ms / ${stats.latency_ms.p99} ms`,
    ],
  );
  const first = o.symbols[0] ?? 'AAPL';
  const interval = o.intervals[0] ?? '1m';
  const links = [
    ['api/symbols', 'symbols and last prices'],
    [`api/bars?symbol=${encodeURIComponent(first)}&interval=${encodeURIComponent(interval)}`, `bars of ${first}`],
    [`api/trades?symbol=${encodeURIComponent(first)}`, `recent trades of ${first}`],
    ['api/stats', 'pipeline stats'],
    ['api/config', 'configuration (secrets redacted)'],
    ['api/stream', 'live stream (Server-Sent Events)'],
    ['healthz', 'health'],
    ['metrics', 'Prometheus metrics'],
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="5"><title>tickstream</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:2rem;max-width:48rem}td{padding:.15rem 1rem .15rem 0}code{background:#8882;padding:0 .2rem}</style>
</head><body>
<h1>tickstream</h1>
<p>The dashboard is not built, so this is the plain status page. Build it (see <code>web/</code>), or use the API below.</p>
<table>${rows.map(([k, v]) => `<tr><td>${escape(k)}</td><td>${escape(String(v))}</td></tr>`).join('')}</table>
<h2>API</h2>
<ul>${links.map(([href, text]) => `<li><a href="${escape(href as string)}">${escape(href as string)}</a> — ${escape(text as string)}</li>`).join('')}</ul>
</body></html>
`;
}
