// The dashboard's browser checks, registered by test/e2e/dashboard.e2e.ts against the embedded pipeline
// (SQLite) and by test/integration/cassandra-api.it.ts against a pipeline on the Cassandra store.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { ConfigKey } from '../../src/config/index.ts';
import type { Bar, EpochMs } from '../../src/domain/index.ts';
import {
  chartHasInk,
  legendText,
  openDashboard,
  ROOT,
  until,
  WAIT_MS,
  type Dashboard,
  type DashboardTarget,
  type InPage,
  type Watched,
} from './dashboard-harness.ts';

/** The symbols the checks expect the dashboard to list; AAPL is shown first. */
export const CHECK_SYMBOLS = ['AAPL', 'MSFT', 'BINANCE:BTCUSDT', 'OANDA:EUR_USD'];
/** Config flags for the simulator-fed pipeline the checks run against. */
export const CHECK_FLAGS: Partial<Record<ConfigKey, string>> = { 'simulator.rate': '2000', symbols: CHECK_SYMBOLS.join(',') };
/** Older 5s bars written for AAPL before the checks, so the chart has history to scroll back through. */
const SEEDED_BARS = 1_200;

export interface DashboardChecks {
  /** Starts (or attaches to) a dashboard fed by the simulator with CHECK_FLAGS; closed after the checks. */
  start(): Promise<Dashboard>;
  /** Where the first check saves its screenshot, relative to the repository. */
  readonly screenshot: string;
  /** Also copied here when UPDATE_SCREENSHOTS=1 (the README's picture). */
  readonly docsScreenshot?: string;
}

/**
 * Writes SEEDED_BARS 5s bars for `symbol` that end where its live bars begin: a seeded random walk that
 * ends at the live price, so the history joins the live chart.
 */
async function seedHistory(p: DashboardTarget, symbol: string): Promise<void> {
  const first = (await p.store.bars({ symbol, interval: '5s', limit: 100_000 }))[0];
  assert.ok(first !== undefined, `no live bars for ${symbol}`);
  let seed = 7;
  const random = (): number => {
    seed = (seed * 48_271) % 2_147_483_647;
    return seed / 2_147_483_647;
  };
  const bars: Bar[] = [];
  let close = first.open;
  for (let i = 1; i <= SEEDED_BARS; i++) {
    const windowStart = (first.windowStart - i * 5_000) as EpochMs;
    const open = close * (1 + (random() - 0.5) * 0.002);
    const high = Math.max(open, close) * (1 + random() * 0.0008);
    const low = Math.min(open, close) * (1 - random() * 0.0008);
    const volume = Math.round(50 + random() * 500);
    const vwap = (open + close + high + low) / 4;
    const tradeCount = 5 + Math.floor(random() * 40);
    bars.push({ symbol, interval: '5s', windowStart, windowEnd: (windowStart + 5_000) as EpochMs, open, high, low, close, volume, vwap, avgPrice: vwap, tradeCount });
    close = open;
  }
  await p.store.write({ trades: [], bars, checkpoints: [] });
}

/** Registers the dashboard's browser checks as one suite named `title`. */
export function dashboardChecks(title: string, checks: DashboardChecks): void {
  let dashboard: Dashboard;
  let pipeline: DashboardTarget;
  const open = (t: TestContext, viewport?: { width: number; height: number }): Promise<Watched> =>
    openDashboard(t, dashboard, { symbols: CHECK_SYMBOLS.length, ...(viewport === undefined ? {} : { viewport }) });

  describe(title, () => {
    before(async () => {
      dashboard = await checks.start();
      pipeline = dashboard.pipeline;
      await seedHistory(pipeline, 'AAPL');
    });

    after(() => dashboard?.close());

    test('loads without console errors, draws the chart, updates live and loads nothing from elsewhere', async (t) => {
      const { page, errors, foreign } = await open(t);
      await page.locator('#chart[data-symbol="AAPL"]').waitFor({ timeout: WAIT_MS });
      await page.locator('.tape tbody tr').first().waitFor({ timeout: WAIT_MS });

      await page.waitForFunction(chartHasInk, 0.01, { timeout: WAIT_MS });

      const firstLegend = await legendText(page);
      assert.match(firstLegend, /AAPL · 5s/);
      const firstTape = await page.locator('.tape tbody tr').first().innerText();
      await until(async () => (await legendText(page)) !== firstLegend, 'the forming bar to change');
      await until(async () => (await page.locator('.tape tbody tr').first().innerText()) !== firstTape, 'a new trade on the tape');
      await page.locator('#stream-status', { hasText: /^live$/ }).waitFor({ timeout: WAIT_MS });
      await until(async () => (await page.locator('[data-plot="ingest"] .readout').innerText()) !== '–', 'the first stats frame');

      // The attribution lightweight-charts' licence asks for stays on the chart.
      assert.equal(await page.locator('#chart a[href*="tradingview"]').count(), 1, 'the TradingView attribution link is shown');

      // A few live 5s bars and stats frames make the screenshot show the plots moving.
      const times = new Set<string>();
      await until(async () => times.add(await page.locator('.legend-time').innerText()).size >= 3, 'three live bars');

      const screenshot = join(ROOT, checks.screenshot);
      mkdirSync(dirname(screenshot), { recursive: true });
      await page.screenshot({ path: screenshot });
      // The README's picture is refreshed on request only, so a test run leaves the tree clean.
      if (checks.docsScreenshot !== undefined && process.env['UPDATE_SCREENSHOTS'] === '1') {
        const docs = join(ROOT, checks.docsScreenshot);
        mkdirSync(dirname(docs), { recursive: true });
        copyFileSync(screenshot, docs);
      }

      assert.deepEqual(errors, []);
      assert.deepEqual(foreign, []);
    });

    test('clicking another symbol changes the chart and the tape, which shows only its trades while its history loads', async (t) => {
      const { page, errors } = await open(t);
      await page.locator('.tape tbody tr').first().waitFor({ timeout: WAIT_MS });

      // MSFT's trade history is held back, as on a slow link, so the tape shows what it has before it arrives.
      let releaseHistory = (): void => {};
      const historyHeld = new Promise<void>((resolve) => (releaseHistory = resolve));
      t.after(releaseHistory);
      await page.route(
        (url) => url.pathname.endsWith('/api/trades') && url.searchParams.get('symbol') === 'MSFT',
        async (route) => {
          await historyHeld;
          await route.continue();
        },
      );
      const tapeFromMsft = async (when: string): Promise<void> => {
        const tapePrices = await page.locator('.tape tbody tr td.price').allInnerTexts();
        await pipeline.flush();
        const stored = await pipeline.store.trades({ symbol: 'MSFT', limit: 5_000 });
        const decimals = (tapePrices[0]?.split('.')[1] ?? '').length;
        const msftPrices = new Set(stored.map((s) => s.trade.price.toFixed(decimals)));
        assert.ok(tapePrices.length > 0, `the tape shows trades ${when}`);
        assert.deepEqual(
          tapePrices.filter((p) => !msftPrices.has(p)),
          [],
          `the tape shows only MSFT trades ${when}`,
        );
        // Newest on top by seq (arrival order), each trade once. Two trades can share time, price and size.
        const seqs = (await page.locator('.tape tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-seq')))).map(Number);
        assert.deepEqual(seqs, [...new Set(seqs)].sort((a, b) => b - a), `the tape is in seq order, each trade once, ${when}`);
      };

      const barsRequest = page.waitForRequest((r) => {
        const url = new URL(r.url());
        return url.pathname.endsWith('/api/bars') && url.searchParams.get('symbol') === 'MSFT';
      });
      await page.locator('.watchlist li[data-symbol="MSFT"]').click();
      await barsRequest;
      await page.locator('#chart[data-symbol="MSFT"]').waitFor({ timeout: WAIT_MS });
      await until(async () => (await legendText(page)).startsWith('MSFT'), 'the MSFT legend');
      assert.equal(await page.locator('#tape-symbol').innerText(), 'MSFT');
      assert.equal(await page.locator('.watchlist li.selected').getAttribute('data-symbol'), 'MSFT');

      // Live MSFT trades show at once, AAPL's are gone.
      await page.locator('.tape tbody tr').first().waitFor({ timeout: WAIT_MS });
      await tapeFromMsft('while the history loads');

      // The history joins the live trades in order.
      const historyAnswer = page.waitForResponse((r) => new URL(r.url()).pathname.endsWith('/api/trades'));
      releaseHistory();
      await historyAnswer;
      await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))');
      await tapeFromMsft('after the history');
      assert.deepEqual(errors, []);
    });

    test('switching the interval reloads history from the API, rolled-up intervals included', async (t) => {
      const { page, errors } = await open(t);
      const labels = await page.locator('#intervals button').allInnerTexts();
      assert.deepEqual(labels, ['5s', '1m', '5m', '15m', '1h']);

      for (const interval of ['1m', '5m']) {
        const request = page.waitForRequest((r) => {
          const url = new URL(r.url());
          return url.pathname.endsWith('/api/bars') && url.searchParams.get('interval') === interval && !url.searchParams.has('from');
        });
        await page.locator(`#intervals button[data-interval="${interval}"]`).click();
        const response = await (await request).response();
        assert.equal(response?.status(), 200);
        await page.locator(`#chart[data-interval="${interval}"]`).waitFor({ timeout: WAIT_MS });
        await until(async () => (await legendText(page)).includes(`· ${interval}`), `the ${interval} legend`);
        assert.equal(await page.locator('#intervals button.active').innerText(), interval);
      }
      assert.match(page.url(), /interval=5m/, 'the selection is kept in the address');
      assert.deepEqual(errors, []);
    });

    test('panning left loads older bars from the API', async (t) => {
      const { page, errors } = await open(t);
      await page.waitForFunction(chartHasInk, 0.01, { timeout: WAIT_MS });
      const older = page.waitForResponse((r) => {
        const url = new URL(r.url());
        return url.pathname.endsWith('/api/bars') && url.searchParams.get('symbol') === 'AAPL' && url.searchParams.has('to');
      }, { timeout: WAIT_MS });
      const box = await page.locator('#chart').boundingBox();
      assert.ok(box !== null);
      const y = box.y + box.height / 2;
      // Drag the time scale to the right, a bounded number of times, until the oldest loaded bars come into view.
      let answered = false;
      void older.then(() => (answered = true), () => undefined);
      for (let i = 0; i < 20 && !answered; i++) {
        await page.mouse.move(box.x + 40, y);
        await page.mouse.down();
        await page.mouse.move(box.x + box.width - 80, y, { steps: 8 });
        await page.mouse.up();
      }
      const response = await older;
      assert.equal(response.status(), 200);
      const bars = (await response.json()) as { window_start: number }[];
      assert.ok(bars.length > 0, 'the API had older bars');
      const to = Number(new URL(response.url()).searchParams.get('to'));
      assert.ok(bars.every((b) => b.window_start < to), 'older bars end before the oldest one shown');
      assert.deepEqual(errors, []);
    });

    test('a red banner says when the live stream is cut and when invalid trades rise', async (t) => {
      const { page } = await open(t);
      await page.locator('#stream-status', { hasText: /^live$/ }).waitFor({ timeout: WAIT_MS });
      assert.equal(await page.locator('#banner').isVisible(), false, 'no banner while all is well');

      // The stream's server is unreachable: every stream connection fails.
      await page.route('**/api/stream', (route) => route.abort('connectionrefused'));
      await page.reload();
      await page.locator('#banner', { hasText: 'Live stream disconnected' }).waitFor({ timeout: WAIT_MS });
      assert.equal(await page.locator('#stream-status').innerText(), 'reconnecting');
      const color = String(await page.evaluate(`getComputedStyle(document.getElementById('banner')).backgroundColor`));
      assert.match(color, /^rgb\((2[0-9]{2}|1[5-9][0-9]), [0-9]{1,2}, [0-9]{1,2}\)$/, `the banner is red, got ${color}`);

      // A stream whose stats show invalid trades arriving.
      await page.unroute('**/api/stream');
      const base = { uptime_s: 1, late: 0, reconnects: 0, log_lag: 0, rates: { received_per_s: 1, processed_per_s: 1, bars_per_s: 1 }, latency_ms: { p50: 1, p90: 1, p99: 1, max: 1, count: 1 } };
      const frames = [
        ['hello', { symbols: CHECK_SYMBOLS, intervals: { engine: ['5s', '1m'], rollup: ['5m', '15m', '1h'] } }],
        ['stats', { ...base, received: 100, invalid: 0 }],
        ['stats', { ...base, received: 200, invalid: 7 }],
      ] as const;
      await page.route('**/api/stream', (route) =>
        route.fulfill({
          status: 200,
          headers: { 'content-type': 'text/event-stream' },
          body: `retry: 60000\n\n${frames.map(([name, data]) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`).join('')}`,
        }),
      );
      await page.reload();
      await page.locator('#banner', { hasText: '7 invalid trades' }).waitFor({ timeout: WAIT_MS });
    });

    test('the theme toggle switches light and dark and is remembered', async (t) => {
      const { page } = await open(t);
      const theme = (): Promise<string | null> => page.locator('html').getAttribute('data-theme');
      assert.equal(await theme(), 'light', 'the default follows prefers-color-scheme');
      await page.locator('#theme-toggle').click();
      assert.equal(await theme(), 'dark');
      await page.reload();
      await page.locator('.watchlist li').first().waitFor({ timeout: WAIT_MS });
      assert.equal(await theme(), 'dark', 'the choice survives a reload');
    });

    test('at phone width everything fits without horizontal scrolling', async (t) => {
      const { page, errors } = await open(t, { width: 390, height: 844 });
      await page.locator('.tape tbody tr').first().waitFor({ timeout: WAIT_MS });
      const overflow = await page.evaluate(() => {
        const { document } = globalThis as unknown as InPage;
        return {
          scroll: document.documentElement.scrollWidth,
          client: document.documentElement.clientWidth,
          widest: Math.max(...Array.from(document.querySelectorAll('.topbar, .banner, .panel')).map((e) => e.getBoundingClientRect().right)),
        };
      });
      assert.ok(overflow.scroll <= overflow.client, `page is ${overflow.scroll}px wide in a ${overflow.client}px viewport`);
      assert.ok(overflow.widest <= overflow.client + 0.5, `an element reaches ${overflow.widest}px in a ${overflow.client}px viewport`);
      const chart = await page.locator('#chart').boundingBox();
      assert.ok(chart !== null && chart.height >= 200, 'the chart keeps a usable height');
      assert.deepEqual(errors, []);
    });
  });
}
