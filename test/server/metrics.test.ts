import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test, type TestContext } from 'node:test';
import { LatencyHistogram, PipelineStats } from '../../src/observability/index.ts';
import { createMetricsServer, type MetricsServerOptions } from '../../src/server/index.ts';
import { countAtMost } from '../../src/server/metrics-histogram.ts';
import type { SourceStatus } from '../../src/source/source.ts';

/**
 * The rules of the Prometheus text format (0.0.4) that a scraper enforces, checked line by line:
 * HELP and TYPE once per family and before its samples, names and labels in the allowed charset,
 * values that parse, one family's samples together, and histograms whose buckets are cumulative,
 * end in +Inf and agree with _count. Returns the problems found, one line each.
 */
export function lintExposition(text: string): string[] {
  const problems: string[] = [];
  const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
  const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
  const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+(-?\d+))?$/;
  const VALUE = /^(?:[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|[+-]?Inf|NaN)$/;
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const closed = new Set<string>();
  const sampled = new Set<string>();
  let current: string | undefined;
  const histograms = new Map<string, { buckets: [string, number][]; count?: number; sum?: number; labels: string }[]>();
  if (!text.endsWith('\n')) problems.push('the text must end with a line feed');
  const familyOf = (sample: string): string => {
    for (const suffix of ['_bucket', '_sum', '_count']) {
      const base = sample.slice(0, -suffix.length);
      if (sample.endsWith(suffix) && (types.get(base) === 'histogram' || types.get(base) === 'summary')) return base;
    }
    return sample;
  };
  const enter = (family: string, line: number): void => {
    if (current === family) return;
    if (closed.has(family)) problems.push(`line ${line}: samples of ${family} are not together`);
    if (current !== undefined) closed.add(current);
    current = family;
  };
  text.split('\n').forEach((raw, i) => {
    const n = i + 1;
    if (raw === '') return;
    if (raw.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(raw);
      if (m === null) return;
      const [, kind, name = '', rest = ''] = m;
      if (!NAME.test(name)) problems.push(`line ${n}: bad metric name ${name}`);
      if (kind === 'HELP') {
        if (helps.has(name)) problems.push(`line ${n}: second HELP for ${name}`);
        helps.add(name);
      } else {
        if (types.has(name)) problems.push(`line ${n}: second TYPE for ${name}`);
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) problems.push(`line ${n}: unknown type ${rest}`);
        if (sampled.has(name)) problems.push(`line ${n}: TYPE of ${name} after its samples`);
        types.set(name, rest);
      }
      enter(name, n);
      return;
    }
    const m = SAMPLE.exec(raw);
    if (m === null) {
      problems.push(`line ${n}: not a sample: ${raw}`);
      return;
    }
    const [, name = '', labelText = '', value = ''] = m;
    if (!VALUE.test(value)) problems.push(`line ${n}: bad value ${value}`);
    const labels = new Map<string, string>();
    for (const pair of labelText === '' ? [] : labelText.match(/[^,]+="(?:[^"\\]|\\.)*"/g) ?? ['!']) {
      const eq = pair.indexOf('=');
      const key = pair.slice(0, eq).replace(/^,/, '');
      if (!LABEL.test(key) || key.startsWith('__')) problems.push(`line ${n}: bad label name ${key}`);
      if (labels.has(key)) problems.push(`line ${n}: label ${key} twice`);
      labels.set(key, pair.slice(eq + 2, -1));
    }
    const family = familyOf(name);
    enter(family, n);
    sampled.add(family);
    const type = types.get(family);
    if (type === 'counter' && Number(value) < 0) problems.push(`line ${n}: negative counter ${name}`);
    if (type === 'summary' && name === family && labels.get('quantile') === undefined) problems.push(`line ${n}: summary sample without quantile`);
    if (type !== 'summary' && type !== 'histogram' && labels.has('quantile')) problems.push(`line ${n}: quantile label on a ${type ?? 'untyped'} metric`);
    if (type === 'histogram') {
      const le = labels.get('le');
      labels.delete('le');
      const key = [...labels].map(([k, v]) => `${k}=${v}`).join(',');
      const series = histograms.get(family) ?? [];
      histograms.set(family, series);
      let entry = series.find((s) => s.labels === key);
      if (entry === undefined) series.push((entry = { buckets: [], labels: key }));
      if (name.endsWith('_bucket')) {
        if (le === undefined) problems.push(`line ${n}: bucket without le`);
        else entry.buckets.push([le, Number(value)]);
      } else if (name.endsWith('_count')) entry.count = Number(value);
      else if (name.endsWith('_sum')) entry.sum = Number(value);
      else problems.push(`line ${n}: ${name} is not a histogram sample`);
    }
  });
  for (const [family, series] of histograms) {
    for (const s of series) {
      const bounds = s.buckets.map(([le]) => (le === '+Inf' ? Infinity : Number(le)));
      if (bounds.some((b, i) => Number.isNaN(b) || (i > 0 && b <= bounds[i - 1]!))) problems.push(`${family}: le bounds not increasing`);
      if (bounds.at(-1) !== Infinity) problems.push(`${family}: no +Inf bucket`);
      if (s.buckets.some(([, c], i) => i > 0 && c < s.buckets[i - 1]![1])) problems.push(`${family}: buckets not cumulative`);
      if (s.count === undefined || s.sum === undefined) problems.push(`${family}: _count or _sum missing`);
      if (s.buckets.at(-1)?.[1] !== s.count) problems.push(`${family}: +Inf bucket ${s.buckets.at(-1)?.[1]} differs from _count ${s.count}`);
    }
  }
  return problems;
}

const connected: SourceStatus = { kind: 'simulator', state: 'connected', detail: 'ws://127.0.0.1:1' };

async function metricsServer(t: TestContext, extra: Partial<MetricsServerOptions> = {}): Promise<{ url: string; stats: PipelineStats }> {
  const stats = extra.stats ?? new PipelineStats();
  const server = await createMetricsServer({ host: '127.0.0.1', port: 0, stats, sourceStatus: () => connected, ...extra });
  t.after(() => server.close());
  return { url: server.url, stats };
}

function busyStats(): PipelineStats {
  const stats = new PipelineStats();
  stats.received = 1200;
  stats.invalid = 3;
  stats.late = 7;
  stats.spoolDepth = 42;
  for (let i = 0; i < 500; i++) {
    stats.latency.record(5 + ((i * 37) % 2000));
    stats.flushDuration.record(0.2 + (i % 50) / 10);
    stats.storeWriteDuration.record(1 + (i % 30));
  }
  return stats;
}

test('the metrics-only listener serves the pipeline metrics in Prometheus text', async (t) => {
  const stats = busyStats();
  const { url } = await metricsServer(t, { stats, partitionLag: () => new Map([[0, 5], [3, 11]]) });
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const body = await res.text();
  assert.match(body, /^tickstream_trades_received_total 1200$/m);
  assert.match(body, /^tickstream_trades_invalid_total 3$/m);
  assert.match(body, /^tickstream_trades_late_total 7$/m);
  assert.match(body, /^tickstream_spool_depth 42$/m);
  assert.match(body, /^tickstream_engine_waiting 0$/m);
  assert.match(body, /^tickstream_consumer_lag\{partition="3"\} 11$/m);
  assert.match(body, /^tickstream_end_to_end_latency_seconds_count 500$/m);
  assert.match(body, /^tickstream_flush_duration_seconds_bucket\{le="\+Inf"\} 500$/m);
  assert.match(body, /^tickstream_store_write_duration_seconds_sum \d/m);
  stats.engineWaitingSince = Date.now();
  assert.match(await (await fetch(url)).text(), /^tickstream_engine_waiting 1$/m, 'an engine waiting for Kafka reads 1');
  stats.engineWaitingSince = undefined;
  stats.kafkaFetchFailingSince = Date.now();
  assert.match(await (await fetch(url)).text(), /^tickstream_engine_waiting 1$/m, 'so does a running engine whose fetches fail');
});

test('a log lag not known leaves tickstream_log_lag without a sample instead of reading 0', async (t) => {
  const { url, stats } = await metricsServer(t);
  stats.logLag = 250;
  assert.match(await (await fetch(url)).text(), /^tickstream_log_lag 250$/m);
  stats.logLag = null;
  const body = await (await fetch(url)).text();
  assert.match(body, /^# TYPE tickstream_log_lag gauge$/m, 'the metric is still described');
  assert.doesNotMatch(body, /^tickstream_log_lag /m);
  assert.deepEqual(lintExposition(body), []);
});

test('the listener answers 404 off /metrics, 405 to other methods and ok on /healthz (503 once the engine is stopped)', async (t) => {
  const { url, stats } = await metricsServer(t);
  assert.equal((await fetch(url.replace('/metrics', '/'))).status, 404);
  assert.equal((await fetch(url, { method: 'POST' })).status, 405);
  const health = await fetch(url.replace('/metrics', '/healthz'));
  assert.equal(health.status, 200);
  assert.equal(await health.text(), 'ok\n');
  stats.engineStopped = 'the Spark queries were stopped from elsewhere';
  const stopped = await fetch(url.replace('/metrics', '/healthz'));
  assert.equal(stopped.status, 503, 'an engine that makes no more bars fails the probe');
  assert.equal(await stopped.text(), 'engine stopped: the Spark queries were stopped from elsewhere\n');
});

test('Spark query progress is exposed per query when the processor reports it', async (t) => {
  const { url } = await metricsServer(t, {
    sparkProgress: () => [
      { query: 'bars_to_kafka', batchId: 17, numInputRows: 900, batchDurationMs: 1250, inputRowsPerSecond: 450.5 },
      { query: 'trades_to_cassandra', batchId: 4, numInputRows: 0 },
    ],
  });
  const body = await (await fetch(url)).text();
  assert.match(body, /^tickstream_spark_batch_id\{query="bars_to_kafka"\} 17$/m);
  assert.match(body, /^tickstream_spark_batch_duration_seconds\{query="bars_to_kafka"\} 1\.25$/m);
  assert.match(body, /^tickstream_spark_input_rows_per_second\{query="bars_to_kafka"\} 450\.5$/m);
  assert.doesNotMatch(body, /tickstream_spark_batch_duration_seconds\{query="trades_to_cassandra"\}/);
  assert.match(body, /^tickstream_spark_batch_input_rows\{query="trades_to_cassandra"\} 0$/m);
});

test('the exposition passes the format checker, empty and busy', async (t) => {
  for (const stats of [new PipelineStats(), busyStats()]) {
    const { url } = await metricsServer(t, { stats, partitionLag: () => [[1, 2]], sparkProgress: () => [{ query: 'q', batchId: 1, numInputRows: 3, batchDurationMs: 40 }] });
    assert.deepEqual(lintExposition(await (await fetch(url)).text()), []);
  }
});

test('the format checker finds what a scraper would reject', () => {
  const bad = [
    '# HELP x_total Things.',
    '# TYPE x_total counter',
    'x_total 1',
    '# TYPE h histogram',
    'h_bucket{le="1"} 5',
    'h_bucket{le="2"} 4',
    'h_sum 3',
    'h_count 9',
    'x_total 2',
    '9bad 1',
    'y{0a="1"} abc',
  ].join('\n');
  const problems = lintExposition(`${bad}\n`);
  for (const expected of [/not together/, /not cumulative/, /no \+Inf/, /not a sample: 9bad/, /bad label name 0a/, /bad value abc/]) {
    assert.ok(problems.some((p) => expected.test(p)), `expected a problem matching ${expected}, got ${problems.join(' | ')}`);
  }
});

test('promtool check metrics accepts the exposition', async (t) => {
  const probe = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined) {
    t.skip('promtool is not installed (apt-get install prometheus)');
    return;
  }
  const { url } = await metricsServer(t, { stats: busyStats(), partitionLag: () => [[0, 1]], sparkProgress: () => [{ query: 'q', batchId: 1, numInputRows: 3 }] });
  const text = await (await fetch(url)).text();
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20_000 });
  // promtool exits 1 for format errors and 3 for lint findings. The only finding allowed is the
  // naming advice on the three summaries that keep their first, millisecond names.
  const legacy = /^tickstream_(latency|flush_duration|store_write)_ms metric names should not contain abbreviated units$/;
  const findings = `${run.stdout}${run.stderr}`.split('\n').filter((l) => l.trim() !== '' && !legacy.test(l.trim()));
  assert.ok(run.status === 0 || (run.status === 3 && findings.length === 0), `promtool exited ${run.status}: ${findings.join(' | ')}`);
});

test('histogram buckets count the values at or under each bound, to the internal 4 % resolution', () => {
  const h = new LatencyHistogram();
  for (const ms of [1, 2, 3, 10, 10, 50, 200, 1000]) h.record(ms);
  assert.equal(countAtMost(h, 0.5), 0);
  assert.equal(countAtMost(h, 3.2), 3);
  assert.equal(countAtMost(h, 11), 5);
  assert.equal(countAtMost(h, 250), 7);
  assert.equal(countAtMost(h, 5000), 8);
  assert.equal(countAtMost(new LatencyHistogram(), 10), 0);
});
