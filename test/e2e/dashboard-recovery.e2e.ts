// The dashboard when a request fails and when the window is narrow: it says what failed, tries again, and shows its readouts whole.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { openDashboard, startDashboard, until, WAIT_MS, type Dashboard } from './dashboard-harness.ts';

/** The text of an element, or '' while it is hidden. */
async function shownText(page: Page, selector: string): Promise<string> {
  const box = page.locator(selector);
  return (await box.isHidden()) ? '' : ((await box.textContent()) ?? '');
}
const bannerText = (page: Page): Promise<string> => shownText(page, '#banner');
const chartStatus = (page: Page): Promise<string> => shownText(page, '.chart-status');

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

  test('a chart whose bars fail to load says so, and loads by itself once the server answers again', async (t) => {
    const { page } = await openDashboard(t, dashboard, { symbols: 2 });
    await page.locator('#chart[data-symbol="AAPL"]').waitFor({ timeout: WAIT_MS });
    await page.route('**/api/bars?*', (route) =>
      route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: 'store_unavailable', message: 'store down (test)' }) }),
    );
    await page.evaluate(`location.hash = '#symbol=MSFT&interval=1m'`);
    await until(async () => (await chartStatus(page)).includes('could not be loaded'), 'the chart says its bars could not be loaded');
    assert.match(await bannerText(page), /api\/bars: 503 store down \(test\)/);
    await page.unroute('**/api/bars?*');
    await until(async () => (await chartStatus(page)) === '' && (await page.locator('.chart-legend').textContent())?.includes('O ') === true, 'the chart loads again by itself');
    assert.equal(await page.locator('#chart').getAttribute('data-symbol'), 'MSFT');
  });

  test('a request the server does not answer is named on the banner, not as the browser\'s bare "Failed to fetch"', async (t) => {
    const { page } = await openDashboard(t, dashboard, { symbols: 2 });
    await page.route('**/api/symbols', (route) => route.abort('connectionrefused'));
    await until(async () => /api\/symbols: the server did not answer/.test(await bannerText(page)), 'the banner names the request that failed');
    assert.doesNotMatch(await bannerText(page), /(^|· )Failed to fetch/);
  });
});
