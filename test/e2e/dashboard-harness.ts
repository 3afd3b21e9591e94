// Shared by the dashboard's browser tests: the embedded pipeline serving the built dashboard, Chromium, and
// pages that record what goes wrong. The same checks run against a server started elsewhere (the Cassandra
// store's integration test) through attachDashboard.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildWeb } from '../../scripts/build-web.ts';
import { startPipeline } from '../../src/app/index.ts';
import { loadConfig, type ConfigKey } from '../../src/config/index.ts';
import type { PipelineStats } from '../../src/observability/index.ts';
import type { Store } from '../../src/store/store.ts';

export const ROOT = new URL('../../', import.meta.url).pathname;
export const WAIT_MS = 15_000;

/** What the browser checks need of a running dashboard: its base URL, and the store and stats behind it. */
export interface DashboardTarget {
  /** The dashboard's base URL, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  readonly store: Store;
  readonly stats: PipelineStats;
  /** Writes everything received so far to the store. */
  flush(): Promise<void>;
}

export interface Dashboard {
  /** A Pipeline when startDashboard started it; any served dashboard when attached. */
  readonly pipeline: DashboardTarget;
  readonly browser: Browser;
  close(): Promise<void>;
}

/** Debian's Chromium, headless; a browser is never downloaded. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * Builds web/dist (skipped when fresh), starts the embedded pipeline on free ports with a temporary data
 * directory, waits for its first stored bars, and launches Debian's Chromium.
 */
export async function startDashboard(flags: Partial<Record<ConfigKey, string>>): Promise<Dashboard> {
  const { outDir } = await buildWeb();
  const dataDir = mkdtempSync(join(tmpdir(), 'tickstream-dashboard-'));
  const config = loadConfig({
    env: {},
    cwd: dataDir,
    flags: { dataDir, port: '0', 'simulator.port': '0', flushInterval: '100ms', logLevel: 'silent', ...flags },
  });
  const pipeline = await startPipeline(config, { webRoot: outDir });
  let attached: Dashboard;
  try {
    attached = await attachDashboard(pipeline);
  } catch (error) {
    await pipeline.close();
    throw error;
  }
  return {
    pipeline,
    browser: attached.browser,
    close: async () => {
      await attached.close();
      await pipeline.close();
    },
  };
}

/**
 * Launches Chromium for a dashboard already served at `target.url` (its server must serve the built
 * web/dist) and waits until its API shows stored bars. close() closes the browser only: whoever started
 * the server stops it.
 */
export async function attachDashboard(target: DashboardTarget): Promise<Dashboard> {
  const browser = await launchChromium();
  try {
    // Bars must exist before a page asks for history, or its first chart is empty.
    await until(async () => (await storedBarCount(target.url)) > 0, `the first stored bars at ${target.url}`);
  } catch (error) {
    await browser.close();
    throw error;
  }
  return { pipeline: target, browser, close: () => browser.close() };
}

/** bars_stored of the server's /api/stats; 0 while it does not answer. */
async function storedBarCount(url: string): Promise<number> {
  try {
    const res = await fetch(new URL('/api/stats', url));
    if (!res.ok) return 0;
    const body = (await res.json()) as { bars_stored?: unknown };
    return typeof body.bars_stored === 'number' ? body.bars_stored : 0;
  } catch {
    return 0;
  }
}

export interface Watched {
  readonly page: Page;
  /** Console errors, uncaught page errors and failed requests, as they happen. */
  readonly errors: string[];
  /** Every URL the page asked for that is not the pipeline's own server. */
  readonly foreign: string[];
}

/**
 * Opens a page on the dashboard, at `hash` when given, recording anything that goes wrong, and waits for the
 * watchlist to list `symbols` symbols; closed after the test. `initScript` runs in the page before its own scripts.
 */
export async function openDashboard(
  t: TestContext,
  d: Dashboard,
  options: { viewport?: { width: number; height: number }; symbols: number; initScript?: string; hash?: string },
): Promise<Watched> {
  const context = await d.browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 720 }, colorScheme: 'light' });
  t.after(() => context.close());
  const page = await context.newPage();
  if (options.initScript !== undefined) await page.addInitScript({ content: options.initScript });
  const errors: string[] = [];
  const foreign: string[] = [];
  const origin = new URL(d.pipeline.url).origin;
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    // Closing the page aborts the open event stream; that is not a failure of the dashboard.
    if (!r.url().endsWith('/api/stream')) errors.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`);
  });
  page.on('request', (r) => {
    const url = r.url();
    if (!url.startsWith(origin) && !url.startsWith('data:')) foreign.push(url);
  });
  await page.goto(`${d.pipeline.url}${options.hash ?? ''}`);
  await page.locator('.watchlist li').nth(options.symbols - 1).waitFor({ timeout: WAIT_MS });
  return { page, errors, foreign };
}

/** Polls `cond` until it holds, failing with `what` after WAIT_MS. */
export async function until(cond: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The little of the browser's DOM the in-page checks read. The test project compiles without the DOM
 * library (src/ must not use it), so the checks name what they touch.
 */
interface InPageCanvas {
  readonly width: number;
  readonly height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
}
export interface InPage {
  readonly document: {
    querySelectorAll(selector: string): ArrayLike<InPageCanvas & { getBoundingClientRect(): { right: number } }>;
    readonly documentElement: { readonly scrollWidth: number; readonly clientWidth: number };
  };
}

/** Runs in the page: true once the chart's main canvas has at least `share` of its pixels off the background colour. */
export function chartHasInk(share: number): boolean {
  const { document } = globalThis as unknown as InPage;
  const canvases = Array.from(document.querySelectorAll('#chart canvas'));
  const main = canvases.sort((a, b) => b.width * b.height - a.width * a.height)[0];
  const ctx = main?.getContext('2d');
  if (main === undefined || ctx === null || ctx === undefined || main.width === 0) return false;
  const { data } = ctx.getImageData(0, 0, main.width, main.height);
  const [r, g, b] = [data[0], data[1], data[2]];
  let ink = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i] !== r || data[i + 1] !== g || data[i + 2] !== b) ink++;
  }
  return ink / (data.length / 4) >= share;
}

export const legendText = (page: Page): Promise<string> => page.locator('.chart-legend').innerText();
