// The dashboard from the keyboard and the address bar, and what it shows while the server is down: checks
// that drive Chromium the way a keyboard user, an edited link or an outage would.
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { Page } from 'playwright-core';
import { CHECK_FLAGS, CHECK_SYMBOLS } from './dashboard-checks.ts';
import { openDashboard, startDashboard, until, WAIT_MS, type Dashboard, type Watched } from './dashboard-harness.ts';

/** WCAG's minimum contrast for a focus indicator against what is next to it. */
const RING_CONTRAST = 3;

/** The little of the DOM focusRingContrast reads (the tests compile without the DOM library). */
interface RingElement {
  readonly parentElement: RingElement | null;
}
interface RingPage {
  readonly document: { readonly activeElement: RingElement | null };
  getComputedStyle(el: RingElement): { outlineStyle: string; outlineWidth: string; outlineOffset: string; outlineColor: string; backgroundColor: string };
}

/**
 * Runs in the page: the contrast ratio between the focused element's outline and the background it is drawn
 * on (its own for an inset ring, its parent's for one outside); 0 when it has no outline.
 */
function focusRingContrast(): number {
  // Self-contained, without named inner functions: it is serialised into the page.
  const page = globalThis as unknown as RingPage;
  const el = page.document.activeElement;
  if (el === null) return 0;
  const ring = page.getComputedStyle(el);
  if (ring.outlineStyle === 'none' || parseFloat(ring.outlineWidth) < 1) return 0;
  let background = 'rgb(255, 255, 255)';
  for (let behind = parseFloat(ring.outlineOffset) < 0 ? el : el.parentElement; behind !== null; behind = behind.parentElement) {
    const color = page.getComputedStyle(behind).backgroundColor;
    if (Number(color.match(/[\d.]+/g)?.[3] ?? 1) > 0) {
      background = color;
      break;
    }
  }
  const [a = 0, b = 0] = [ring.outlineColor, background].map((css) => {
    const [r = 0, g = 0, bl = 0] = (css.match(/[\d.]+/g) ?? []).map((v) => {
      const s = Number(v) / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  });
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}

const activeAttribute = (page: Page, name: string): Promise<unknown> => page.evaluate(`document.activeElement?.getAttribute('${name}') ?? null`);
const selectedSymbol = (page: Page): Promise<string | null> => page.locator('.watchlist li[aria-selected="true"]').getAttribute('data-symbol');

interface OutageProxy {
  readonly url: string;
  /** Cuts every open connection and refuses new ones, as a server that went down. */
  down(): void;
  up(): void;
  close(): Promise<void>;
}

/** A proxy on 127.0.0.1 in front of the dashboard's server, so a test can take "the server" down and back up. */
async function startOutageProxy(target: string): Promise<OutageProxy> {
  const sockets = new Set<Socket>();
  let isDown = false;
  const server = createServer((req, res) => {
    const upstream = request(new URL(req.url ?? '/', target), { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  server.on('connection', (socket: Socket) => {
    if (isDown) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    down: () => {
      isDown = true;
      for (const s of sockets) s.destroy();
    },
    up: () => {
      isDown = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('dashboard from the keyboard and the address bar', () => {
  let dashboard: Dashboard;
  const open = (t: TestContext): Promise<Watched> => openDashboard(t, dashboard, { symbols: CHECK_SYMBOLS.length });

  before(async () => {
    dashboard = await startDashboard(CHECK_FLAGS);
  });

  after(() => dashboard?.close());

  test('pressing an interval button from the keyboard keeps the focus on it', async (t) => {
    const { page, errors } = await open(t);
    await page.locator('#chart[data-interval="5s"]').waitFor({ timeout: WAIT_MS });
    for (const [interval, key] of [['1m', 'Enter'], ['5m', ' ']] as const) {
      await page.locator(`#intervals button[data-interval="${interval}"]`).focus();
      await page.keyboard.press(key);
      await page.locator(`#chart[data-interval="${interval}"]`).waitFor({ timeout: WAIT_MS });
      assert.equal(await activeAttribute(page, 'data-interval'), interval, `the ${interval} button keeps the focus`);
      assert.equal(await page.locator('#intervals button[aria-selected="true"]').getAttribute('data-interval'), interval);
    }
    assert.deepEqual(errors, []);
  });

  test('the intervals are a tab list: one tab stop, the arrow keys (wrapping), Home and End move and show the interval', async (t) => {
    const { page, errors } = await open(t);
    await page.locator('#chart[data-interval="5s"]').waitFor({ timeout: WAIT_MS });
    const tabs = page.locator('#intervals[role="tablist"] > button[role="tab"][aria-controls="chart"]');
    assert.deepEqual(await tabs.allInnerTexts(), ['5s', '1m', '5m', '15m', '1h']);
    await page.locator('#intervals button[data-interval="5s"]').focus();
    for (const [key, interval] of [['ArrowRight', '1m'], ['End', '1h'], ['ArrowRight', '5s'], ['ArrowLeft', '1h'], ['Home', '5s']] as const) {
      await page.keyboard.press(key);
      await page.locator(`#chart[data-interval="${interval}"]`).waitFor({ timeout: WAIT_MS });
      assert.equal(await activeAttribute(page, 'data-interval'), interval, `${key} focuses ${interval}`);
      assert.equal(await page.locator('#intervals button[aria-selected="true"]').getAttribute('data-interval'), interval, `${key} selects ${interval}`);
      assert.deepEqual(
        await page.locator('#intervals button[tabindex="0"]').evaluateAll((bs) => bs.map((b) => b.getAttribute('data-interval'))),
        [interval],
        'the one tab stop follows the selection',
      );
    }
    assert.deepEqual(errors, []);
  });

  test('every control shows a focus ring that stands out, the active interval button included', async (t) => {
    const { page, errors } = await open(t);
    await page.locator('#intervals button.active').waitFor({ timeout: WAIT_MS });
    // A key press first, so the browser treats the focus below as keyboard focus (:focus-visible).
    await page.keyboard.press('Shift');
    const controls = ['#theme-toggle', '#dashboard-tab', '#intervals button.active', '#intervals button:not(.active)', '.watchlist li.selected', '.watchlist li:not(.selected)'];
    for (const selector of controls) {
      await page.locator(selector).first().focus();
      assert.equal(await page.evaluate(`document.activeElement.matches(':focus-visible')`), true, `${selector} has keyboard focus`);
      const contrast = await page.evaluate(focusRingContrast);
      assert.ok(contrast >= RING_CONTRAST, `the focus ring of ${selector} has a contrast of ${contrast.toFixed(2)}, less than ${RING_CONTRAST}`);
    }
    assert.deepEqual(errors, []);
  });

  test('the watchlist is one tab stop; the arrow keys, Home and End move the selection and the chart', async (t) => {
    const { page, errors } = await open(t);
    const rows = page.locator('.watchlist li');
    const order: string[] = [];
    for (let i = 0; i < CHECK_SYMBOLS.length; i++) order.push((await rows.nth(i).getAttribute('data-symbol')) ?? '');
    const [first, second] = order;
    const last = order[order.length - 1];
    await page.locator(`#chart[data-symbol="${first}"]`).waitFor({ timeout: WAIT_MS });
    assert.equal(await page.locator('ul.watchlist[role="listbox"] > li[role="option"]').count(), order.length, 'a listbox of options');

    await page.locator('#theme-toggle').focus();
    await page.keyboard.press('Tab');
    assert.equal(await activeAttribute(page, 'data-symbol'), first, 'Tab enters the list at the selected symbol');

    for (const [key, symbol] of [['ArrowDown', second], ['End', last], ['ArrowDown', last], ['Home', first], ['ArrowUp', first]] as const) {
      await page.keyboard.press(key);
      assert.equal(await activeAttribute(page, 'data-symbol'), symbol, `${key} focuses ${symbol}`);
      assert.equal(await selectedSymbol(page), symbol, `${key} selects ${symbol}`);
      assert.equal(await page.locator('.watchlist li[tabindex="0"]').getAttribute('data-symbol'), symbol, 'the tab stop follows the selection');
      assert.equal(await page.locator('.watchlist li[tabindex="0"]').count(), 1);
      await page.locator(`#chart[data-symbol="${symbol}"]`).waitFor({ timeout: WAIT_MS });
    }
    assert.deepEqual(errors, []);
  });

  test('editing the address in the open tab changes the chart; the Kafka route is left to the console', async (t) => {
    const { page, errors } = await open(t);
    const [first] = CHECK_SYMBOLS;
    await page.locator(`#chart[data-symbol="${first}"][data-interval="5s"]`).waitFor({ timeout: WAIT_MS });

    await page.evaluate(`location.hash = '#symbol=MSFT&interval=1m'`);
    await page.locator('#chart[data-symbol="MSFT"][data-interval="1m"]').waitFor({ timeout: WAIT_MS });
    assert.equal(await selectedSymbol(page), 'MSFT');
    assert.equal(await page.locator('#intervals button.active').innerText(), '1m');
    await until(async () => (await page.locator('#tape-symbol').innerText()) === 'MSFT', 'the MSFT tape');

    await page.evaluate(`location.hash = '#symbol=MSFT&interval=5m'`);
    await page.locator('#chart[data-symbol="MSFT"][data-interval="5m"]').waitFor({ timeout: WAIT_MS });

    // Only the symbol: the interval stays, and the address is completed.
    await page.evaluate(`location.hash = '#symbol=AAPL'`);
    await page.locator('#chart[data-symbol="AAPL"][data-interval="5m"]').waitFor({ timeout: WAIT_MS });
    await until(async () => new URL(page.url()).hash === '#symbol=AAPL&interval=5m', 'the completed address');
    assert.deepEqual(errors, []);

    await page.evaluate(`location.hash = '#/kafka'`);
    await page.locator('#dashboard').waitFor({ state: 'hidden', timeout: WAIT_MS });
    assert.equal(new URL(page.url()).hash, '#/kafka', 'the dashboard leaves the console its address');
    // This server runs the embedded profile: the console says what it needs instead of showing the API's 404s.
    const notice = page.locator('.kafka-unavailable');
    await notice.waitFor({ timeout: WAIT_MS });
    assert.match(await notice.innerText(), /needs the cluster profile[\s\S]*--profile cluster/i);
    assert.equal(await page.locator('.kafka-error').isVisible(), false, 'no error banner');
    assert.deepEqual(errors, [], 'the console asked the API nothing it could not answer');
    await page.goBack();
    await page.locator('#dashboard').waitFor({ state: 'visible', timeout: WAIT_MS });
    assert.equal(await page.locator('#chart').getAttribute('data-symbol'), 'AAPL');
    assert.equal(await page.locator('#chart').getAttribute('data-interval'), '5m');
  });

  test('an address naming a symbol or interval the dashboard lacks says so on the banner and is corrected to what shows', async (t) => {
    const { page, errors } = await openDashboard(t, dashboard, { symbols: CHECK_SYMBOLS.length, hash: '#symbol=AAPX&interval=2m' });
    const [first] = CHECK_SYMBOLS;
    await page.locator(`#chart[data-symbol="${first}"][data-interval="5s"]`).waitFor({ timeout: WAIT_MS });
    await page.locator('#banner', { hasText: `Symbol AAPX and interval 2m from the address not found; showing ${first} · 5s` }).waitFor({ timeout: WAIT_MS });
    assert.equal(new URL(page.url()).hash, `#symbol=${first}&interval=5s`);

    // Edited in the open tab: the part it has is followed, the other keeps what shows.
    await page.evaluate(`location.hash = '#symbol=MSFT&interval=7m'`);
    await page.locator('#chart[data-symbol="MSFT"][data-interval="5s"]').waitFor({ timeout: WAIT_MS });
    await page.locator('#banner', { hasText: 'Interval 7m from the address not found; showing 5s' }).waitFor({ timeout: WAIT_MS });
    await until(async () => new URL(page.url()).hash === '#symbol=MSFT&interval=5s', 'the corrected address');

    await page.evaluate(`location.hash = '#symbol=OLD&interval=1m'`);
    await page.locator('#chart[data-symbol="MSFT"][data-interval="1m"]').waitFor({ timeout: WAIT_MS });
    await page.locator('#banner', { hasText: 'Symbol OLD from the address not found; showing MSFT' }).waitFor({ timeout: WAIT_MS });
    await until(async () => new URL(page.url()).hash === '#symbol=MSFT&interval=1m', 'the corrected address');

    // A right-to-left override in the symbol would show the rest of the line backwards: it is shown as its code point.
    await page.evaluate(`location.hash = '#symbol=%E2%80%AEXYZ&interval=1m'`);
    const banner = page.locator('#banner', { hasText: 'Symbol [U+202E]XYZ from the address not found; showing MSFT' });
    await banner.waitFor({ timeout: WAIT_MS });
    const text = await banner.evaluate((el) => el.textContent ?? '');
    assert.doesNotMatch(text, /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/, 'no bidirectional control reaches the banner');
    assert.deepEqual(errors, []);
  });

  test('while the server is down the source badge, the rates, the prices and the chart legend show they are stale, until fresh stats arrive', async (t) => {
    const proxy = await startOutageProxy(dashboard.pipeline.url);
    t.after(() => proxy.close());
    const { page } = await openDashboard(t, { ...dashboard, pipeline: { ...dashboard.pipeline, url: proxy.url } }, { symbols: CHECK_SYMBOLS.length });
    const badge = page.locator('#source-status');
    const ingest = page.locator('[data-plot="ingest"] .readout');
    const rates = (): Promise<string[]> => page.locator('.watchlist .rate').allInnerTexts();
    await page.locator('#stream-status', { hasText: /^live$/ }).waitFor({ timeout: WAIT_MS });
    await until(async () => (await badge.innerText()) === 'simulator', 'the source badge');
    await until(async () => (await ingest.innerText()).endsWith('trades/s'), 'the first stats frame');

    proxy.down();
    await page.locator('#banner', { hasText: 'Live stream disconnected' }).waitFor({ timeout: WAIT_MS });
    await until(async () => (await badge.innerText()) === 'simulator · stale', 'a stale source badge');
    assert.match((await badge.getAttribute('class')) ?? '', /\bstale\b/);
    await until(async () => (await ingest.innerText()) === '–', 'a stale ingest rate');
    await until(async () => (await rates()).every((r) => r === '–/s'), 'stale watchlist rates');
    assert.match((await page.locator('.watchlist').getAttribute('class')) ?? '', /\bstale\b/, 'the prices are marked as last known');
    assert.equal(await page.locator('.chart-legend .legend-stale').innerText(), 'not live');

    proxy.up();
    await until(async () => (await badge.innerText()) === 'simulator', 'a current source badge');
    assert.doesNotMatch((await badge.getAttribute('class')) ?? '', /\bstale\b/);
    await until(async () => (await ingest.innerText()).endsWith('trades/s'), 'a current ingest rate');
    await until(async () => (await rates()).every((r) => r !== '–/s' && r.endsWith('/s')), 'current watchlist rates');
    assert.doesNotMatch((await page.locator('.watchlist').getAttribute('class')) ?? '', /\bstale\b/);
    assert.equal(await page.locator('.chart-legend .legend-stale').count(), 0, 'the legend is live again');
  });
});
