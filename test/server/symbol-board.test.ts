import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SymbolBoard } from '../../src/server/symbol-board.ts';
import { symbolTradesOf } from '../../src/store/index.ts';
import { trade } from './fixtures.ts';

const T0 = Date.UTC(2024, 4, 6, 13, 0);

test("the watchlist counts every trade of a flush in a symbol's rate, opens its session at the first and shows the newest by event time", () => {
  const board = new SymbolBoard(['AAPL', 'MSFT'], '5s');
  const flush = [trade('MSFT', T0 + 1_000, 1, 400), trade('AAPL', T0, 2, 180), trade('MSFT', T0 + 3_000, 3, 410), trade('MSFT', T0 + 2_000, 4, 405)];
  // Only the last trade of each symbol is given in full, as the tape needs no more here.
  board.trades(symbolTradesOf(flush, 1), T0);
  const [aapl, msft] = board.summaries(T0 + 1_000);
  // The rate averages the nine whole seconds before now: 3 trades in one of them.
  assert.equal(msft!.trades_per_s, Number((3 / 9).toFixed(1)));
  assert.equal(aapl!.trades_per_s, Number((1 / 9).toFixed(1)));
  assert.equal(msft!.session_open, 400);
  assert.equal(msft!.last_price, 410);
  assert.equal(msft!.last_ts, T0 + 3_000);
  assert.equal(aapl!.last_price, 180);
});
