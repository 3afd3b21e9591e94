import type { StatsSnapshot } from '../observability/index.ts';
import type { SourceStatus } from '../source/source.ts';

const escape = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/** The page at `/` when the dashboard is not built: what is running, and links to the API. */
export function statusPage(o: {
  stats: StatsSnapshot;
  source: SourceStatus;
  symbols: readonly string[];
  intervals: readonly string[];
  /** What `extraStats` adds to /api/stats; a serve role's counts from Kafka replace its own idle ones. */
  extra?: Record<string, unknown>;
}): string {
  const { stats, source } = o;
  const kafka = kafkaCounts(o.extra);
  const rows: [string, string | number][] =
    kafka === undefined
      ? [
          ['source', `${source.kind} · ${source.state} · ${source.detail}`],
          ['uptime', `${stats.uptime_s} s`],
          ['received', `${stats.received} (${stats.rates.received_per_s}/s)`],
          ['processed', `${stats.processed} (${stats.rates.processed_per_s}/s)`],
          ['trades stored', stats.trades_stored],
          ['bars stored', stats.bars_stored],
          ['invalid / late', `${stats.invalid} / ${stats.late}`],
          ['log lag', stats.log_lag],
          ['latency p50 / p99', `${stats.latency_ms.p50} ms / ${stats.latency_ms.p99} ms`],
        ]
      : [
          ['source', `${source.kind} · ${source.state} · ${source.detail}`],
          ['uptime', `${stats.uptime_s} s`],
          ['counts from', kafka.error === null ? `Kafka's offsets${kafka.group === null ? '' : ` (engine group ${kafka.group})`}` : `Kafka, not answering: ${kafka.error}`],
          ['received', `${kafka.received} (${kafka.receivedPerS}/s)`],
          ['processed', `${kafka.processed} (${kafka.processedPerS}/s)`],
          ['invalid / late', `${kafka.invalid} / ${kafka.late}`],
          ['log lag', kafka.lag ?? '–'],
          ['latency p50 / p99', 'measured by the process role'],
        ];
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

interface KafkaCounts {
  readonly group: string | null;
  readonly error: string | null;
  readonly received: number;
  readonly receivedPerS: number;
  readonly processed: number;
  readonly processedPerS: number;
  readonly invalid: number;
  readonly late: number;
  readonly lag: number | null;
}

/** The counts a serve role reads from Kafka (`counts_from: "kafka"`, see src/app/kafka-view.ts); undefined otherwise. */
function kafkaCounts(extra: Record<string, unknown> | undefined): KafkaCounts | undefined {
  if (extra?.['counts_from'] !== 'kafka') return undefined;
  const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
  const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  const view = (extra['kafka_view'] ?? {}) as Record<string, unknown>;
  const rates = (extra['rates'] ?? {}) as Record<string, unknown>;
  return {
    group: text(view['group']),
    error: text(view['error']),
    received: num(extra['received']),
    receivedPerS: num(rates['received_per_s']),
    processed: num(extra['processed']),
    processedPerS: num(rates['processed_per_s']),
    invalid: num(extra['invalid']),
    late: num(extra['late']),
    lag: typeof extra['log_lag'] === 'number' ? extra['log_lag'] : null,
  };
}
