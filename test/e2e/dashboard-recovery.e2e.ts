// The dashboard when a request fails and when the window is narrow: it says what failed, tries again, and shows its readouts whole.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openDashboard, startDashboard, WAIT_MS, type Dashboard } from './dashboard-harness.ts';

describe('dashboard recovery and narrow readouts', () => {
  let dashboard: Dashboard;

  before(async () => {
    dashboard = await startDashboard({ 'simulator.rate': '300', symbols: 'AAPL,MSFT' });
  });

  after(() => dashboard?.close());

  test('the health readouts show whole, beside their titles or under them, at phone and tablet widths', async (t) => {
    const { page, errors } = await openDashboard(t, dashboard, { symbols: 2 });
    await page.waitForFunction(`/ms · .* ms/.test(document.querySelector('[data-plot="latency"] .readout')?.textContent ?? '')`, undefined, { timeout: WAIT_MS });
    for (const width of [320, 390, 800, 900]) {
      await page.setViewportSize({ width, height: 800 });
      await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))');
      const cut = await page.locator('.health-head .readout').evaluateAll((els) =>
        els.filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => `${e.textContent} (${e.scrollWidth} > ${e.clientWidth})`),
      );
      assert.deepEqual(cut, [], `at ${width} px no readout is cut short`);
    }
    assert.deepEqual(errors, []);
  });
});
