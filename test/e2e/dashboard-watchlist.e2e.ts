// A watchlist longer than its panel at phone width: wherever the selection comes from, the selected row shows.
import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { Page } from 'playwright-core';
import { openDashboard, startDashboard, WAIT_MS, type Dashboard, type Watched } from './dashboard-harness.ts';

const SYMBOLS = Array.from({ length: 30 }, (_, i) => `SYM${String(i).padStart(2, '0')}`);
const PHONE = { width: 390, height: 844 };

/** Where `symbol`'s row is against the watchlist's scrolling box: whether it shows whole, and how far its bottom is from the box's. */
async function rowPlace(page: Page, symbol: string): Promise<{ shows: boolean; belowBottom: number }> {
  const row = await page.locator(`.watchlist li[data-symbol="${symbol}"]`).boundingBox();
  const list = await page.locator('#watchlist').boundingBox();
  assert.ok(row !== null && list !== null, `the ${symbol} row and the list have boxes`);
  const belowBottom = row.y + row.height - (list.y + list.height);
  return { shows: row.y >= list.y - 0.5 && belowBottom <= 0.5, belowBottom };
}

const rowShows = async (page: Page, symbol: string): Promise<boolean> => (await rowPlace(page, symbol)).shows;
const pageScrollY = (page: Page): Promise<number> => page.evaluate('window.scrollY') as Promise<number>;

describe('a long watchlist at phone width', () => {
  let dashboard: Dashboard;
  const open = (t: TestContext, hash?: string): Promise<Watched> =>
    openDashboard(t, dashboard, { viewport: PHONE, symbols: SYMBOLS.length, ...(hash === undefined ? {} : { hash }) });

  before(async () => {
    dashboard = await startDashboard({ 'simulator.rate': '300', symbols: SYMBOLS.join(',') });
  });

  after(() => dashboard?.close());

  test('a symbol named by the address is scrolled into view in the list, and the page stays where it is', async (t) => {
    const { page, errors } = await open(t, '#symbol=SYM25&interval=5s');
    await page.locator('#chart[data-symbol="SYM25"]').waitFor({ timeout: WAIT_MS });
    assert.ok(await rowShows(page, 'SYM25'), 'the SYM25 row shows');
    assert.equal(await pageScrollY(page), 0, 'the page did not move');

    // Edited in the open tab, back up the list.
    await page.evaluate(`location.hash = '#symbol=SYM03&interval=5s'`);
    await page.locator('#chart[data-symbol="SYM03"]').waitFor({ timeout: WAIT_MS });
    assert.ok(await rowShows(page, 'SYM03'), 'the SYM03 row shows');
    assert.equal(await pageScrollY(page), 0, 'the page did not move');
    assert.deepEqual(errors, []);
  });

  test('moving the selection from the keyboard scrolls the list the least that shows the row, and the page not at all', async (t) => {
    const { page, errors } = await open(t);
    await page.locator('#chart[data-symbol="SYM00"]').waitFor({ timeout: WAIT_MS });
    await page.locator('.watchlist li[data-symbol="SYM00"]').focus();
    const scrollY = await pageScrollY(page);
    const listScrollTop = (): Promise<number> => page.locator('#watchlist').evaluate((list) => list.scrollTop);
    const moves = [...SYMBOLS.slice(1, 9).map((s) => ['ArrowDown', s] as const), ['End', 'SYM29'], ['ArrowUp', 'SYM28'], ['Home', 'SYM00']] as const;
    for (const [key, symbol] of moves) {
      const before = await listScrollTop();
      await page.keyboard.press(key);
      await page.locator(`#chart[data-symbol="${symbol}"]`).waitFor({ timeout: WAIT_MS });
      const place = await rowPlace(page, symbol);
      assert.ok(place.shows, `after ${key} the ${symbol} row shows`);
      if (key === 'ArrowDown' && (await listScrollTop()) !== before) {
        assert.ok(Math.abs(place.belowBottom) <= 1, `ArrowDown to ${symbol} scrolled the list to its last row, not past it (${place.belowBottom} px off)`);
      }
      assert.equal(await pageScrollY(page), scrollY, `${key} did not move the page`);
    }
    assert.deepEqual(errors, []);
  });
});
