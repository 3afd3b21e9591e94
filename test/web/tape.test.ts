// Which trades the dashboard's tape shows once a symbol's history arrives after some of its live trades
// (web/src/tape-rows.ts): pure, so checked here without a browser.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { TradeWire } from '../../web/src/api.ts';
import { joinTape } from '../../web/src/tape-rows.ts';

const trade = (seq: number, source = 'live'): TradeWire => ({
  symbol: 'MSFT',
  price: 400 + seq / 100,
  volume: 1,
  ts: 1_700_000_000_000 + seq,
  conditions: [],
  source,
  ingest_ts: 1_700_000_000_000 + seq,
  seq,
});

test('history that overlaps the live trades is joined in seq order, each trade once', () => {
  const history = [12, 11, 10, 9].map((s) => trade(s, 'history'));
  const live = [11, 12, 13].map((s) => trade(s));
  const rows = joinTape(history, live, 200);
  assert.deepEqual(
    rows.map((r) => r.seq),
    [9, 10, 11, 12, 13],
  );
  // Where both have a trade, the live one is kept: it is what the tape has already drawn.
  assert.deepEqual(
    rows.map((r) => r.source),
    ['history', 'history', 'live', 'live', 'live'],
  );
});

test('only the newest `max` rows are kept', () => {
  const rows = joinTape([5, 4, 3].map((s) => trade(s)), [6, 7].map((s) => trade(s)), 3);
  assert.deepEqual(
    rows.map((r) => r.seq),
    [5, 6, 7],
  );
});

test('for any history and live trades: the newest `max` of both, ascending, each seq once', () => {
  const seqs = fc.uniqueArray(fc.nat({ max: 500 }), { maxLength: 120 });
  fc.assert(
    fc.property(seqs, seqs, fc.integer({ min: 1, max: 200 }), (h, l, max) => {
      const history = [...h].sort((a, b) => b - a).map((s) => trade(s, 'history'));
      const live = [...l].sort((a, b) => a - b).map((s) => trade(s));
      const rows = joinTape(history, live, max).map((r) => r.seq);
      const all = [...new Set([...h, ...l])].sort((a, b) => a - b);
      assert.deepEqual(rows, all.slice(-max));
    }),
  );
});
