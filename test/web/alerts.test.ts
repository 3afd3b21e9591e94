import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StatsWire } from '../../web/src/api.ts';
import { addressNotice, problems, statsAreStale } from '../../web/src/alerts.ts';

const stats = (over: Partial<StatsWire> = {}): StatsWire => ({
  uptime_s: 10,
  received: 100,
  invalid: 0,
  late: 0,
  reconnects: 0,
  log_lag: 0,
  rates: { received_per_s: 10, processed_per_s: 10, bars_per_s: 1 },
  latency_ms: { p50: 1, p90: 2, p99: 3, max: 4, count: 100 },
  ...over,
});
const source = { kind: 'simulator', state: 'connected', detail: '' } as const;

test('a healthy pipeline raises nothing', () => {
  const history = [{ atMs: 0, stats: stats() }, { atMs: 1000, stats: stats({ received: 200 }) }];
  assert.deepEqual(problems({ stream: 'open', source, history, nowMs: 1000 }), []);
});

test('a store that refuses writes is reported with how long', () => {
  const history = [{ atMs: 0, stats: stats({ store_state: 'retrying', store_failing_s: 12 }) }];
  const out = problems({ stream: 'open', source, history, nowMs: 0 });
  assert.equal(out.length, 1);
  assert.match(out[0] ?? '', /Store refusing writes for 12 s/);
});

test('trades waiting in the producer spool are reported with their count; an empty spool raises nothing', () => {
  const at = (s: StatsWire) => problems({ stream: 'open', source, history: [{ atMs: 0, stats: s }], nowMs: 0 });
  assert.deepEqual(at(stats({ spool_depth: 0 })), []);
  assert.deepEqual(at(stats({ spool_depth: 12_345 })), ["Kafka not taking trades: 12,345 wait in the producer's spool and are sent once it answers; nothing lost"]);
});

test('an engine waiting for Kafka is reported with how long; a running one raises nothing', () => {
  const at = (s: StatsWire) => problems({ stream: 'open', source, history: [{ atMs: 0, stats: s }], nowMs: 0 });
  assert.deepEqual(at(stats({ engine_state: 'ok', engine_waiting_s: 0 })), []);
  assert.deepEqual(at(stats({ engine_state: 'waiting', engine_waiting_s: 42 })), ['Engine waiting for Kafka for 42 s: no new bars until it answers; trades are kept']);
  assert.deepEqual(at(stats({ engine_state: 'waiting', engine_waiting_s: 7, missing_topic: 'market.trades' })), [
    'Engine waiting for topic market.trades for 7 s: Kafka answers that it has no such topic (deleted?); no new bars until it is there; trades are kept',
  ]);
  assert.deepEqual(at(stats({ engine_state: 'stopped', engine_waiting_s: 0, engine_stopped: 'the Spark queries were stopped' })), ['Engine stopped: the Spark queries were stopped']);
});

test('invalid trades arriving recently and a reconnecting source are reported', () => {
  const history = [{ atMs: 0, stats: stats() }, { atMs: 5000, stats: stats({ invalid: 3 }) }];
  const out = problems({ stream: 'open', source: { kind: 'finnhub', state: 'reconnecting', detail: 'attempt 2' }, history, nowMs: 5000 });
  assert.deepEqual(out, ['Source reconnecting: attempt 2', '3 invalid trades in the last 15 s']);
});

test('a Spark late replay with gaps is reported; a whole one, or none (the TS engine), raises nothing', () => {
  const withReplay = (late_replay: { unreplayed: number; mismatches: number; unseen: number }): StatsWire => ({ ...stats(), spark: { queries: [], late_replay } });
  const at = (s: StatsWire) => problems({ stream: 'open', source, history: [{ atMs: 0, stats: s }], nowMs: 0 });
  assert.deepEqual(at(withReplay({ unreplayed: 0, mismatches: 0, unseen: 0 })), []);
  assert.deepEqual(at(stats()), []);
  assert.deepEqual(at(withReplay({ unreplayed: 2, mismatches: 0, unseen: 5 })), [
    "Spark late trades incomplete, micro-batches: 2 not replayed (counted from Spark's drop count), 5 never seen; the late trades topic may miss some",
  ]);
  assert.match(at(withReplay({ unreplayed: 0, mismatches: 1, unseen: 0 }))[0] ?? '', /1 disagreeing with Spark/);
});

test('an open stream without stats for more than 5 s is stalled; one that has just opened is not', () => {
  const history = [{ atMs: 1_000, stats: stats() }];
  assert.deepEqual(problems({ stream: 'open', source, history, nowMs: 6_000 }), [], 'five seconds of silence is still live');
  assert.deepEqual(problems({ stream: 'open', source, history, nowMs: 41_000 }), ['Live stream stalled: no update for 40 s; what is shown may be out of date']);
  // Reopened after an outage: the last stats are old, but the stream opened a moment ago.
  assert.deepEqual(problems({ stream: 'open', streamOpenedAtMs: 40_000, source, history, nowMs: 41_000 }), []);
  // A closed stream says so once, not also that it is stalled.
  assert.deepEqual(problems({ stream: 'reconnecting', source, history, nowMs: 41_000 }), ['Live stream disconnected; reconnecting…']);
});

test('stats are stale while the stream is down or stalled, and after it reopens until the next stats frame', () => {
  const history = [{ atMs: 1_000, stats: stats() }];
  assert.equal(statsAreStale({ stream: 'open', source, history, nowMs: 2_000 }), false);
  assert.equal(statsAreStale({ stream: 'reconnecting', source, history, nowMs: 2_000 }), true);
  assert.equal(statsAreStale({ stream: 'open', source, history, nowMs: 41_000 }), true, 'stalled');
  assert.equal(statsAreStale({ stream: 'open', streamOpenedAtMs: 40_000, source, history, nowMs: 41_000 }), true, 'reopened, no stats yet');
  const fresh = [...history, { atMs: 40_500, stats: stats() }];
  assert.equal(statsAreStale({ stream: 'open', streamOpenedAtMs: 40_000, source, history: fresh, nowMs: 41_000 }), false, 'reopened, stats since');
  assert.equal(statsAreStale({ stream: 'connecting', source: undefined, history: [], nowMs: 0 }), false, 'nothing shown yet');
});

test("a serve role whose reading of Kafka fails says so with the reading's age; one that reads raises nothing", () => {
  const at = (s: StatsWire) => problems({ stream: 'open', source: { kind: 'simulator', state: 'elsewhere', detail: '' }, history: [{ atMs: 0, stats: s }], nowMs: 0 });
  const view = (error: string | null, age_s: number | null): StatsWire => ({ ...stats(), counts_from: 'kafka', kafka_view: { topic: 'market.trades', group: 'g', error, age_s } });
  assert.deepEqual(at(view(null, 0)), []);
  assert.deepEqual(at(view('Kafka did not answer: ECONNREFUSED', 7)), ["Kafka not answering the pipeline's counts (last reading 7 s ago): Kafka did not answer: ECONNREFUSED"]);
  assert.deepEqual(at(view('Kafka did not answer: ECONNREFUSED', null)), ["Kafka not answering the pipeline's counts (no reading yet): Kafka did not answer: ECONNREFUSED"]);
});

test('an address naming a symbol or interval that is not here gets one line naming it and what shows instead', () => {
  const shown = { symbol: 'AAPL', interval: '5s' };
  assert.equal(addressNotice({ symbol: 'AAPX' }, shown), 'Symbol AAPX from the address not found; showing AAPL');
  assert.equal(addressNotice({ symbol: 'AAPL', interval: '2m' }, shown), 'Interval 2m from the address not found; showing 5s');
  assert.equal(addressNotice({ symbol: 'AAPX', interval: '2m' }, shown), 'Symbol AAPX and interval 2m from the address not found; showing AAPL · 5s');
  assert.equal(addressNotice({ symbol: 'AAPL', interval: '5s' }, shown), undefined, 'shown as named');
  assert.equal(addressNotice({}, shown), undefined, 'an address naming nothing');
});

test('subscribed symbols that get no trades are named on the banner, at most five of them', () => {
  const history = [{ atMs: 0, stats: stats() }];
  const at = (quiet: string[]) => problems({ stream: 'open', source: { kind: 'finnhub', state: 'connected', detail: '', quiet }, history, nowMs: 0 });
  assert.deepEqual(at([]), []);
  const two = at(['AAPX', 'msft']);
  assert.equal(two.length, 1);
  assert.match(two[0]!, /^No trade yet for AAPX, msft since subscribing: .*check the spelling and case/);
  assert.match(at(['A', 'B', 'C', 'D', 'E', 'F', 'G'])[0]!, /No trade yet for A, B, C, D, E and 2 more since/);
});
