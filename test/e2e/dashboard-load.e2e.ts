import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { chartHasInk, legendText, openDashboard, startDashboard, until, WAIT_MS, type Dashboard } from './dashboard-harness.ts';

/** The tape's cap, TAPE_ROWS in web/src/tape.ts (that module needs the DOM library, which tests compile without). */
const TAPE_ROWS = 200;
const SYMBOLS = Array.from({ length: 50 }, (_, i) => `SYM${String(i).padStart(2, '0')}`);
/** Live updates of the chart legend to watch under load; bounded, like the time it may take. */
const UPDATES = 20;

/** Counts animation frames and long main-thread tasks from the first script on, for the diagnostics below. */
const FRAME_PROBE = `
  window.__probe = { frames: 0, longTasks: 0, longestTaskMs: 0 };
  const tick = () => { window.__probe.frames++; requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      window.__probe.longTasks++;
      window.__probe.longestTaskMs = Math.max(window.__probe.longestTaskMs, e.duration);
    }
  }).observe({ type: 'longtask', buffered: true });
`;

interface Probe {
  frames: number;
  longTasks: number;
  longestTaskMs: number;
}

describe('dashboard under load: 50 symbols at 10,000 trades/s', () => {
  let dashboard: Dashboard;

  before(async () => {
    dashboard = await startDashboard({ 'simulator.rate': '10000', symbols: SYMBOLS.join(',') });
  });

  after(() => dashboard?.close());

  test('keeps updating with the tape capped and every symbol listed', async (t) => {
    const { page, errors } = await openDashboard(t, dashboard, { symbols: SYMBOLS.length, initScript: FRAME_PROBE });
    await page.waitForFunction(chartHasInk, 0.01, { timeout: WAIT_MS });
    // Count from here: loading the page is not what this watches.
    await page.evaluate('Object.assign(window.__probe, { frames: 0, longTasks: 0, longestTaskMs: 0 })');
    const started = Date.now();

    let legend = await legendText(page);
    for (let i = 0; i < UPDATES; i++) {
      await until(async () => (await legendText(page)) !== legend, `live update ${i + 1} of ${UPDATES}`);
      legend = await legendText(page);
      const rows = await page.locator('.tape tbody tr').count();
      assert.ok(rows <= TAPE_ROWS, `the tape holds ${rows} rows, more than ${TAPE_ROWS}`);
    }
    assert.equal(await page.locator('.watchlist li').count(), SYMBOLS.length);
    await until(async () => (await page.locator('.tape tbody tr').count()) === TAPE_ROWS, 'a full tape');

    const probe = (await page.evaluate('window.__probe')) as Probe;
    const seconds = (Date.now() - started) / 1000;
    // Reported, not asserted: timing belongs to the benchmark, not to a test on a shared machine.
    t.diagnostic(
      `${(probe.frames / seconds).toFixed(0)} frames/s over ${seconds.toFixed(1)} s; ${probe.longTasks} long tasks, longest ${probe.longestTaskMs.toFixed(0)} ms; pipeline received ${dashboard.pipeline.stats.received} trades`,
    );
    assert.ok(probe.frames > 0, 'the page rendered frames');
    assert.deepEqual(errors, []);
  });
});
