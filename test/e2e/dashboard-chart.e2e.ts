// The price chart in a real browser: where its legend sits at each width, the clock it shows, and the forming
// candle of a rolled-up interval over trades whose time is far from the browser's clock.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { Bar, BarRecord, EpochMs } from '../../src/domain/index.ts';
import { formatPrice, formatQuantity } from '../../web/src/format.ts';
import { chartHasInk, legendText, openDashboard, ROOT, startDashboard, until, WAIT_MS, type Dashboard } from './dashboard-harness.ts';

const VIEWPORTS = [
  { width: 375, height: 812 },
  { width: 800, height: 720 },
  { width: 1000, height: 720 },
  { width: 1440, height: 900 },
];

/** 2001-09-09 01:45:00 UTC, the start of a 5m window, long before any browser's clock. */
const REPLAY_START = 999_999_900_000;
const EXTRA_VOLUME = 5;

/** Four minutes of AAPL trades, one a second at a rising price, so that each minute opens at another price. */
function writeReplay(dir: string): string {
  const lines: string[] = [];
  for (let s = 0; s < 240; s++) lines.push(JSON.stringify({ symbol: 'AAPL', price: 100 + s / 100, volume: 1 + (s % 7), ts: REPLAY_START + s * 1_000 }));
  const file = join(dir, 'trades.ndjson');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** Keeps the last texts drawn on any canvas in window.__drawn, from the first script on: the chart's labels are not in the DOM. */
const TEXT_PROBE = `
  window.__drawn = [];
  const fillText = CanvasRenderingContext2D.prototype.fillText;
  CanvasRenderingContext2D.prototype.fillText = function (text, ...rest) {
    if (window.__drawn.push(String(text)) > 500) window.__drawn.shift();
    return fillText.call(this, text, ...rest);
  };
`;

async function getJson<T>(url: string, path: string): Promise<T> {
  const res = await fetch(new URL(path, url));
  assert.ok(res.ok, `${path}: ${res.status}`);
  return (await res.json()) as T;
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

const overlaps = (a: Box, b: Box): boolean => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

/** The chart's plot area: lightweight-charts draws the candles on the largest canvas. */
async function plotBox(page: Page): Promise<Box> {
  const boxes: Box[] = [];
  for (const canvas of await page.locator('#chart canvas').all()) {
    const box = await canvas.boundingBox();
    if (box !== null) boxes.push(box);
  }
  const plot = boxes.sort((a, b) => b.width * b.height - a.width * a.height)[0];
  assert.ok(plot !== undefined, 'the chart has a canvas');
  return plot;
}

describe('price chart legend', () => {
  let dashboard: Dashboard;

  before(async () => {
    dashboard = await startDashboard({ 'simulator.rate': '2000', symbols: 'AAPL,MSFT' });
  });

  after(() => dashboard?.close());

  test('the legend never covers the plot, at phone, tablet and desktop widths', async (t) => {
    const { page, errors } = await openDashboard(t, dashboard, { symbols: 2 });
    await page.waitForFunction(chartHasInk, 0.01, { timeout: WAIT_MS });
    mkdirSync(join(ROOT, 'test-results'), { recursive: true });
    for (const viewport of VIEWPORTS) {
      await page.setViewportSize(viewport);
      // The chart sizes itself from a ResizeObserver, so its canvases settle a frame or two later.
      await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))');
      const legend = await page.locator('.chart-legend').boundingBox();
      assert.ok(legend !== null && legend.height > 0, `the legend shows at ${viewport.width} px`);
      const plot = await plotBox(page);
      await page.screenshot({ path: join(ROOT, `test-results/chart-legend-${viewport.width}.png`) });
      assert.ok(!overlaps(legend, plot), `at ${viewport.width} px the legend ${JSON.stringify(legend)} covers the plot ${JSON.stringify(plot)}`);
    }
    assert.deepEqual(errors, []);
  });

  test('moving the cursor over the bars does not move the plot, at any width', async (t) => {
    // AAPL's minutes before this one, with legends that differ in length: short prices, volumes and
    // changes, then long ones, in turn. The live pipeline writes only the minute it is in.
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    const bars: Bar[] = Array.from({ length: 40 }, (_, i) => {
      const windowStart = (minute - (41 - i) * 60_000) as EpochMs;
      const [open, close, volume] = i % 2 === 0 ? [9.5, 9.49, 3] : [1_234.56, 1_299.99, 9_876];
      const high = Math.max(open, close) + 1;
      const low = Math.min(open, close) - 1;
      return { symbol: 'AAPL', interval: '1m', windowStart, windowEnd: (windowStart + 60_000) as EpochMs, open, high, low, close, volume, vwap: close, avgPrice: close, tradeCount: 3 };
    });
    await dashboard.pipeline.store.write({ trades: [], bars, checkpoints: [] });
    const { page, errors } = await openDashboard(t, dashboard, { symbols: 2 });
    await page.evaluate(`location.hash = '#symbol=AAPL&interval=1m'`);
    await page.locator('#chart[data-symbol="AAPL"][data-interval="1m"]').waitFor({ timeout: WAIT_MS });
    await page.waitForFunction(chartHasInk, 0.01, { timeout: WAIT_MS });
    for (const width of [375, 620, 760, 900, 1440]) {
      const viewport = { width, height: 720 };
      await page.setViewportSize(viewport);
      await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))');
      const plot = await plotBox(page);
      const tops = new Set<number>();
      const heights = new Set<number>();
      const legends = new Set<string>();
      for (let i = 0; i < 24; i++) {
        await page.mouse.move(plot.x + plot.width * (0.05 + (0.9 * i) / 23), plot.y + plot.height / 2);
        await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))');
        const now = await plotBox(page);
        tops.add(Math.round(now.y));
        heights.add(Math.round(now.height));
        legends.add((await legendText(page)).replace(/\d{2}:\d{2}:\d{2}/, ''));
      }
      await page.screenshot({ path: join(ROOT, `test-results/chart-hover-${width}.png`) });
      await page.mouse.move(0, 0);
      assert.ok(legends.size >= 2, `at ${width} px the cursor went over bars of both kinds: ${[...legends].join(' | ')}`);
      assert.equal(tops.size, 1, `at ${width} px the plot moved: tops ${[...tops].join(', ')}`);
      assert.equal(heights.size, 1, `at ${width} px the plot changed height: ${[...heights].join(', ')}`);
    }
    assert.deepEqual(errors, []);
  });

  test('the legend shows the bar time in 24-hour time, as the axis and the tape do, in a 12-hour locale too', async (t) => {
    const context = await dashboard.browser.newContext({ locale: 'en-US' });
    t.after(() => context.close());
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(dashboard.pipeline.url);
    await page.locator('.legend-time').waitFor({ timeout: WAIT_MS });
    assert.match(await page.locator('.legend-time').innerText(), /^\d{2}:\d{2}:\d{2}$/);
    assert.deepEqual(errors, []);
  });
});

describe('rolled-up candles over a replay of old trades', () => {
  let dashboard: Dashboard;
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-chart-replay-'));

  before(async () => {
    dashboard = await startDashboard({ source: 'replay', 'replay.file': writeReplay(dir), 'replay.speed': '0' });
  });

  after(async () => {
    await dashboard?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the forming 5m candle is built from the data\'s own 1m bars and agrees with /api/bars', async (t) => {
    const url = dashboard.pipeline.url;
    await until(async () => (await getJson<{ source?: { state: string } }>(url, '/api/stats')).source?.state === 'finished', 'the end of the replay');
    await dashboard.pipeline.flush();
    const minutes = await getJson<BarRecord[]>(url, '/api/bars?symbol=AAPL&interval=1m');
    const fiveMinutes = await getJson<BarRecord[]>(url, '/api/bars?symbol=AAPL&interval=5m');
    const newest = minutes[minutes.length - 1];
    const forming = fiveMinutes[fiveMinutes.length - 1];
    assert.ok(newest !== undefined && forming !== undefined && minutes.length >= 2, 'the replay stored at least two minutes of one 5m window');

    // The stream brings a newer version of the newest minute: one more trade, at a new high.
    const price = newest.high + 1;
    const update: BarRecord = { ...newest, high: price, close: price, volume: newest.volume + EXTRA_VOLUME, trade_count: newest.trade_count + 1 };
    const context = await dashboard.browser.newContext({ locale: 'en-US' });
    t.after(() => context.close());
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // The update comes once the chart has its history, as a live server's would: from a change made after it.
    const served = historyServed(page);
    await page.route('**/api/stream', async (route) => {
      await served;
      await route.fulfill(streamBody([update]));
    });
    await page.goto(`${url}#symbol=AAPL&interval=5m`);
    await until(async () => (await legendText(page)).includes(`C ${formatPrice(price)}`), 'the stream\'s update in the legend');

    const legend = await legendText(page);
    assert.match(legend, /AAPL · 5m/);
    // A bar of another day names its date: the replay is from 2001.
    assert.match(await page.locator('.legend-time').innerText(), /^2001-09-\d{2} \d{2}:\d{2}:\d{2}$/);
    assert.ok(legend.includes(`O ${formatPrice(forming.open)}`), `the candle opens where its window does: ${legend}`);
    assert.ok(legend.includes(`V ${formatQuantity(forming.volume + EXTRA_VOLUME)}`), `the candle holds every minute of its window: ${legend}`);
    assert.deepEqual(errors, []);
  });

  test('the crosshair label on the time axis shows the bar time as the legend does, in a locale with another date order too', async (t) => {
    const url = dashboard.pipeline.url;
    await until(async () => (await getJson<{ source?: { state: string } }>(url, '/api/stats')).source?.state === 'finished', 'the end of the replay');
    await dashboard.pipeline.flush();
    const context = await dashboard.browser.newContext({ locale: 'en-US' });
    t.after(() => context.close());
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.addInitScript({ content: TEXT_PROBE });
    await page.goto(`${url}#symbol=AAPL&interval=5s`);
    await page.waitForFunction(chartHasInk, 0.01, { timeout: WAIT_MS });
    const plot = await plotBox(page);
    const labels: { legend: string; crosshair: string[] }[] = [];
    for (let i = 0; i < 12; i++) {
      await page.evaluate('window.__drawn.length = 0');
      await page.mouse.move(plot.x + plot.width * (0.5 + (0.45 * i) / 11), plot.y + plot.height / 2);
      await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))');
      // The crosshair's time label is the one text drawn with a date and a clock; the axis' tick labels have one or the other.
      const drawn = (await page.evaluate('window.__drawn')) as string[];
      const crosshair = drawn.filter((text) => /\d{2}:\d{2}:\d{2}$/.test(text) && text.length > 8);
      labels.push({ legend: await page.locator('.legend-time').innerText(), crosshair });
    }
    const hovered = labels.filter((l) => l.crosshair.length > 0);
    assert.ok(hovered.length > 0, `the cursor went over a bar: ${JSON.stringify(labels)}`);
    for (const { legend, crosshair } of hovered) {
      assert.match(legend, /^2001-09-\d{2} \d{2}:\d{2}:\d{2}$/);
      assert.deepEqual([...new Set(crosshair)], [legend], 'the crosshair label reads as the legend does');
    }
    assert.deepEqual(errors, []);
  });

  for (const hello of ['at once', 'only after the history'] as const) {
    test(`a bar that changed before the stream began is shown as it is now, with the stream's hello ${hello}`, async (t) => {
      const url = dashboard.pipeline.url;
      await until(async () => (await getJson<{ source?: { state: string } }>(url, '/api/stats')).source?.state === 'finished', 'the end of the replay');
      await dashboard.pipeline.flush();
      const minutes = await getJson<BarRecord[]>(url, '/api/bars?symbol=AAPL&interval=1m');
      const newest = minutes[minutes.length - 1];
      assert.ok(newest !== undefined, 'the replay stored its minutes');
      const stalePrice = newest.low - 1;

      const context = await dashboard.browser.newContext({ locale: 'en-US' });
      t.after(() => context.close());
      const page = await context.newPage();
      // Until the stream has answered, the history holds an older version of the newest minute: one the
      // stream will never send again, because the change was made before the page subscribed.
      let streamAnswered = false;
      let staleServed: () => void = () => {};
      const stale = new Promise<void>((resolve) => (staleServed = resolve));
      await page.route('**/api/bars**', async (route) => {
        const response = await route.fetch();
        const bars = (await response.json()) as BarRecord[];
        const older = bars.map((b) => (!streamAnswered && b.window_start === newest.window_start && b.interval === '1m' ? { ...b, close: stalePrice, low: stalePrice } : b));
        await route.fulfill({ response, json: older });
        if (!streamAnswered) staleServed();
      });
      await page.route('**/api/stream', async (route) => {
        if (hello === 'only after the history') await Promise.race([stale, new Promise((r) => setTimeout(r, WAIT_MS))]);
        streamAnswered = true;
        await route.fulfill(streamBody([]));
      });
      await page.goto(`${url}#symbol=AAPL&interval=1m`);
      await until(async () => (await legendText(page)).includes(`C ${formatPrice(newest.close)}`), `the newest minute as it is now (close ${newest.close}) in the legend`);
      assert.ok(!(await legendText(page)).includes(`C ${formatPrice(stalePrice)}`));
    });
  }
});

/** An SSE body with the hello of the replay's dashboard and one bars frame; it does not reconnect for a minute. */
function streamBody(bars: readonly BarRecord[]): { status: number; headers: Record<string, string>; body: string } {
  const hello = { symbols: ['AAPL'], intervals: { engine: ['5s', '1m'], rollup: ['5m', '15m', '1h'] } };
  return {
    status: 200,
    headers: { 'content-type': 'text/event-stream' },
    body: `retry: 60000\n\nevent: hello\ndata: ${JSON.stringify(hello)}\n\nevent: bars\ndata: ${JSON.stringify(bars)}\n\n`,
  };
}

/** Resolves once the page has been served a page of bars (the chart's history); waits at most WAIT_MS. */
function historyServed(page: Page): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, WAIT_MS);
    page.on('requestfinished', (request) => {
      if (new URL(request.url()).pathname.endsWith('/api/bars')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}
