import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PIPELINE_QUERIES } from '../../scripts/grafana.ts';
import { PipelineStats } from '../../src/observability/index.ts';
import { createMetricsServer } from '../../src/server/index.ts';
import { freePort } from '../support/free-port.ts';

// The pipeline dashboard's PromQL, run by a real Prometheus that scrapes a role's /metrics listener:
// every panel query must return series, with the labels its legend names and the values the role serves.

interface Sample {
  readonly metric: Record<string, string>;
  readonly value: readonly [number, string];
}

test('every pipeline panel query returns the served series from a real Prometheus', { timeout: 60_000 }, async (t) => {
  if (spawnSync('prometheus', ['--version']).error !== undefined) {
    t.skip('prometheus is not installed (apt-get install prometheus)');
    return;
  }
  const stats = new PipelineStats();
  stats.spoolDepth = 42;
  stats.engineWaitingSince = Date.now();
  const busy = (): void => {
    stats.received += 1_000;
    stats.processed += 990;
    stats.late += 2;
    stats.invalid += 1;
    for (let i = 0; i < 100; i++) {
      stats.latency.record(5 + i);
      stats.flushDuration.record(1 + (i % 10));
      stats.storeWriteDuration.record(2 + (i % 20));
    }
  };
  busy();
  const metrics = await createMetricsServer({
    host: '127.0.0.1',
    port: 0,
    stats,
    sourceStatus: () => ({ kind: 'simulator', state: 'connected', detail: 'test' }),
    partitionLag: () => new Map([[0, 5], [3, 11]]),
    sparkProgress: () => [{ query: 'bars_to_kafka', batchId: 3, numInputRows: 900, batchDurationMs: 1_250, processedRowsPerSecond: 720 }],
  });
  t.after(() => metrics.close());

  const dir = mkdtempSync(join(tmpdir(), 'tickstream-prometheus-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const target = new URL(metrics.url);
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: producer\n    metrics_path: ${target.pathname}\n    static_configs:\n      - targets: ["${target.host}"]\n`,
  );
  const port = await freePort();
  const prometheus = spawn(
    'prometheus',
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  prometheus.stderr.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4_000)));
  t.after(async () => {
    if (prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus.once('exit', resolve));
      prometheus.kill('SIGTERM');
      await exited;
    }
  });

  const query = async (expr: string): Promise<Sample[]> => {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: Sample[] } };
    assert.equal(body.status, 'success', `${expr}: ${body.error ?? res.status}`);
    assert.equal(body.data?.resultType, 'vector', expr);
    return body.data.result;
  };

  // Rates and quantiles need two scrapes with the counters moving in between.
  const answers = new Map<string, Sample[]>();
  const deadline = Date.now() + 40_000;
  while (answers.size < Object.keys(PIPELINE_QUERIES).length) {
    assert.ok(prometheus.exitCode === null, `prometheus exited ${prometheus.exitCode}: ${log}`);
    assert.ok(Date.now() < deadline, `no series after 40 s for ${Object.keys(PIPELINE_QUERIES).filter((k) => !answers.has(k)).join(', ')}: ${log}`);
    busy();
    await sleep(500);
    for (const [name, expr] of Object.entries(PIPELINE_QUERIES)) {
      if (answers.has(name)) continue;
      const result = await query(expr).catch((error: unknown) => {
        if (error instanceof TypeError) return []; // not listening yet
        throw error;
      });
      if (result.length > 0 && result.every((s) => Number.isFinite(Number(s.value[1])))) answers.set(name, result);
    }
  }

  const values = (name: keyof typeof PIPELINE_QUERIES): [string, number][] =>
    answers.get(name)!.map((s) => [Object.entries(s.metric).map(([k, v]) => `${k}=${v}`).join(','), Number(s.value[1])]);
  assert.deepEqual(values('spool'), [['job=producer', 42]]);
  assert.deepEqual(values('engineWaiting'), [['job=producer', 1]]);
  assert.deepEqual(values('lagPerPartition').sort(), [['partition=0', 5], ['partition=3', 11]]);
  assert.deepEqual(values('sparkBatch'), [['query=bars_to_kafka', 1.25]]);
  assert.deepEqual(values('sparkRows'), [['query=bars_to_kafka', 720]]);
  for (const name of ['received', 'processed', 'late', 'invalid'] as const) {
    const [[labels, value] = ['', 0]] = values(name);
    assert.equal(labels, 'job=producer', name);
    assert.ok(value > 0, `${name} is ${value}`);
  }
  for (const name of ['latencyP50', 'latencyP99', 'flushP99', 'storeWriteP99'] as const) {
    const [[labels, seconds] = ['', 0]] = values(name);
    assert.equal(labels, '', name);
    assert.ok(seconds > 0 && seconds < 1, `${name} is ${seconds} s`);
  }
});
