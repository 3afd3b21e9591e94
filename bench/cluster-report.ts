// The printed tables of the cluster paths: one per path, then the two engines side by side.
import type { ClusterReport, EngineResult, ThroughputResult } from './cluster.ts';
import type { CpuUse } from './cpu.ts';
import { fmt, printTable } from './measure.ts';
import { STORE_TARGET_TRADES_PER_S } from './store-alone.ts';

type Row = [string, string, string, string];

const ms = (n: number): string => fmt(n, 0);
const pct = (n: number | null | undefined): string => (n === null || n === undefined ? '-' : fmt(n, 0));
/** Cassandra / Spark JVMs / Kafka / this process, percent of one core. */
const cpuCell = (c: CpuUse): string => `${pct(c['cassandra'])} / ${pct(c['spark'])} / ${pct(c['kafka'])} / ${pct(c['bench'])}`;
const CPU_HEAD = 'CPU % of one core, Cassandra / Spark JVMs / Kafka / this process';

function engineRows(r: ClusterReport, e: EngineResult): Row[] {
  const t = e.throughput;
  const l = e.latency;
  return [
    [`trades/s processed, ${fmt(t.trades)} trades in the topic, start → every bar in Cassandra`, fmt(t.tradesPerS), '', ''],
    ['  of which starting (s)', fmt(t.startSeconds, 1), '', ''],
    ['  trades/s after the start call returned', fmt(t.afterStartTradesPerS), '', ''],
    ['bars written/s (bar upserts, same run)', fmt(t.barsPerS), '', ''],
    [`paced run: trades/s reached (${fmt(l.askedPerS)} asked)`, fmt(l.reachedPerS), '', ''],
    ['ingest → bar in Cassandra p50 (ms)', ms(l.p50Ms), '', ''],
    ['ingest → bar in Cassandra p99 (ms)', ms(l.p99Ms), '', ''],
    ['trigger interval (ms)', fmt(r.triggerMs), '', ''],
    [`${CPU_HEAD}, throughput run`, cpuCell(t.cpu), '', ''],
    [`${CPU_HEAD}, paced run`, cpuCell(l.cpu), '', ''],
  ];
}

function storeRows(r: ClusterReport, tsThroughput: ThroughputResult | undefined): Row[] {
  const s = r.storeAlone;
  if (s === undefined) return [];
  const met = s.tradesPerS >= STORE_TARGET_TRADES_PER_S;
  const rows: Row[] = [
    [`Cassandra store alone: trades/s written, batches of ${fmt(s.tradesPerBatch)} with their bars`, fmt(s.tradesPerS), `≥ ${fmt(STORE_TARGET_TRADES_PER_S)}`, met ? 'yes' : 'no'],
    ['Cassandra store alone: bars written/s', fmt(s.barsPerS), '', ''],
    [`Cassandra store alone: one batch write p50 / p99 (ms, ${s.batches} writes)`, `${ms(s.writeP50Ms)} / ${ms(s.writeP99Ms)}`, '', ''],
    [`${CPU_HEAD}, store alone`, cpuCell(s.cpu), '', ''],
  ];
  if (tsThroughput !== undefined) {
    rows.push(['store alone / TS engine path (trades/s): the store bounds the path when near 1', `${fmt(s.tradesPerS / tsThroughput.tradesPerS, 1)}×`, '> 1', s.tradesPerS > tsThroughput.tradesPerS ? 'yes' : 'no']);
  }
  return rows;
}

/** Prints the cassandra path's table, the spark path's, and both engines side by side when both ran. */
export function printClusterTables(r: ClusterReport): void {
  const header: Row = ['measure', 'value', 'target', 'met'];
  const input: Row = [`input: ${fmt(r.input.trades)} trades produced to Kafka once, for every path (trades/s)`, fmt(r.input.producedPerS), '', ''];
  if (r.ts !== undefined || r.storeAlone !== undefined) {
    process.stdout.write('\ncassandra path: Kafka → TS engine → Cassandra, and the Cassandra store alone\n');
    printTable([header, input, ...(r.ts === undefined ? [] : engineRows(r, r.ts)), ...storeRows(r, r.ts?.throughput)]);
  }
  if (r.spark !== undefined) {
    process.stdout.write('\nspark path: Kafka → Spark → Cassandra\n');
    printTable([header, input, ...engineRows(r, r.spark)]);
  }
  if (r.ts !== undefined && r.spark !== undefined) {
    const ts = r.ts;
    const sp = r.spark;
    const ratio = (a: number, b: number, digits = 1): string => `${fmt(a / b, digits)}×`;
    const c = (x: CpuUse, k: string): string => pct(x[k]);
    process.stdout.write(`\nside by side, same topic and input, trigger interval ${fmt(r.triggerMs)} ms\n`);
    printTable([
      ['measure', 'TS engine', 'Spark', 'Spark / TS'],
      ['trades/s processed, start → every bar in Cassandra', fmt(ts.throughput.tradesPerS), fmt(sp.throughput.tradesPerS), ratio(sp.throughput.tradesPerS, ts.throughput.tradesPerS, 2)],
      ['  trades/s after the start call returned', fmt(ts.throughput.afterStartTradesPerS), fmt(sp.throughput.afterStartTradesPerS), ratio(sp.throughput.afterStartTradesPerS, ts.throughput.afterStartTradesPerS, 2)],
      ['bars written/s', fmt(ts.throughput.barsPerS), fmt(sp.throughput.barsPerS), ratio(sp.throughput.barsPerS, ts.throughput.barsPerS, 2)],
      [`paced run: trades/s reached (${fmt(ts.latency.askedPerS)} asked)`, fmt(ts.latency.reachedPerS), fmt(sp.latency.reachedPerS), ''],
      ['ingest → bar in Cassandra p50 (ms)', ms(ts.latency.p50Ms), ms(sp.latency.p50Ms), ratio(sp.latency.p50Ms, ts.latency.p50Ms)],
      ['ingest → bar in Cassandra p99 (ms)', ms(ts.latency.p99Ms), ms(sp.latency.p99Ms), ratio(sp.latency.p99Ms, ts.latency.p99Ms)],
      ['CPU % of one core, Cassandra JVM, throughput run', c(ts.throughput.cpu, 'cassandra'), c(sp.throughput.cpu, 'cassandra'), ''],
      ['CPU % of one core, Spark JVMs, throughput run', c(ts.throughput.cpu, 'spark'), c(sp.throughput.cpu, 'spark'), ''],
      ['CPU % of one core, this process, throughput run', c(ts.throughput.cpu, 'bench'), c(sp.throughput.cpu, 'bench'), ''],
      ['CPU % of one core, Cassandra JVM, paced run', c(ts.latency.cpu, 'cassandra'), c(sp.latency.cpu, 'cassandra'), ''],
      ['CPU % of one core, Spark JVMs, paced run', c(ts.latency.cpu, 'spark'), c(sp.latency.cpu, 'spark'), ''],
      ['CPU % of one core, this process, paced run', c(ts.latency.cpu, 'bench'), c(sp.latency.cpu, 'bench'), ''],
    ]);
  }
  process.stdout.write(`\n${r.method.join('\n')}\n`);
}
