import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CASSANDRA_DS, GRAFANA_FILES, MARKET_QUERIES, marketDashboard, PIPELINE_QUERIES, pipelineDashboard, PROMETHEUS_DS } from '../../scripts/grafana.ts';
import { composeModel, PINNED } from '../../scripts/deploy.ts';

interface PanelJson {
  readonly title?: string;
  readonly datasource?: { readonly uid?: string };
  readonly targets?: readonly { readonly target?: string; readonly expr?: string; readonly datasource?: { readonly uid?: string } }[];
}

test('the committed Grafana dashboards and provisioning files are what scripts/grafana.ts generates', () => {
  for (const { path, render } of GRAFANA_FILES) {
    assert.equal(readFileSync(path, 'utf8'), render(), `${path} is stale: run npm run grafana:generate`);
  }
});

test('every panel has a query on a provisioned datasource', () => {
  const provisioned = new Set([CASSANDRA_DS.uid, PROMETHEUS_DS.uid]);
  for (const board of [marketDashboard(), pipelineDashboard()]) {
    const panels = (board.panels ?? []) as readonly PanelJson[];
    assert.ok(panels.length >= 4, board.title);
    for (const panel of panels) {
      assert.ok((panel.targets ?? []).length > 0, `${panel.title} has no query`);
      for (const target of panel.targets ?? []) {
        assert.ok(provisioned.has(target.datasource?.uid ?? panel.datasource?.uid ?? ''), `${panel.title}: unprovisioned datasource`);
        assert.ok((target.target ?? target.expr ?? '').trim() !== '', `${panel.title}: empty query`);
      }
    }
  }
});

test('market queries name the whole partition key of the table they read', () => {
  for (const [name, query] of Object.entries(MARKET_QUERIES)) {
    assert.doesNotMatch(query, /ALLOW FILTERING/i, name);
    if (/FROM \w+\.bars /.test(query)) assert.match(query, /symbol = '\$symbol' AND interval = '\$interval' AND window_start >= \$__timeFrom AND window_start <= \$__timeTo/, name);
    if (/FROM \w+\.trades /.test(query)) assert.match(query, /symbol = '\$symbol' AND day = /, name);
  }
});

test('pipeline queries read metrics the roles expose', () => {
  const source = readFileSync(new URL('../../src/server/metrics.ts', import.meta.url), 'utf8');
  for (const [name, expr] of Object.entries(PIPELINE_QUERIES)) {
    const metric = /tickstream_[a-z_]+/.exec(expr)?.[0];
    assert.ok(metric !== undefined, name);
    const family = metric.replace(/_bucket$/, '');
    assert.ok(source.includes(`'${family}'`), `${name}: ${family} is not registered in src/server/metrics.ts`);
  }
});

test('Grafana is a version the pinned Cassandra plugin supports, installed at that version', () => {
  const grafana = composeModel().services.grafana!;
  assert.match(grafana.image, /^grafana\/grafana:11\./);
  assert.equal(grafana.environment?.GF_INSTALL_PLUGINS, `${PINNED.cassandraPlugin.id} ${PINNED.cassandraPlugin.version}`);
  assert.match(PINNED.cassandraPlugin.version, /^3\.\d+\.\d+$/);
});

test('the pipeline PromQL parses (promtool check rules)', (t) => {
  if (spawnSync('promtool', ['--version']).error !== undefined) {
    t.skip('promtool is not installed (apt-get install prometheus)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-promql-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const rules = Object.entries(PIPELINE_QUERIES)
    .map(([name, expr]) => `      - record: tickstream:${name}\n        expr: ${JSON.stringify(expr)}\n`)
    .join('');
  const file = join(dir, 'rules.yml');
  writeFileSync(file, `groups:\n  - name: pipeline\n    rules:\n${rules}`);
  const run = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
});
