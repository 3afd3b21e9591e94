import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { loadConfig, type Config } from '../../src/config/index.ts';
import type { Bar, EpochMs, Offset, Price, Volume } from '../../src/domain/index.ts';
import { PipelineStats } from '../../src/observability/index.ts';
import { createHttpServer, type HttpServer, type HttpServerOptions } from '../../src/server/index.ts';
import type { SourceStatus } from '../../src/source/source.ts';
import type { StoredTrade } from '../../src/store/store.ts';
import { MemoryStore } from './memory-store.ts';

export const SYMBOLS = ['AAPL', 'MSFT', 'BINANCE:BTCUSDT'];

export function testConfig(t: TestContext): Config {
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-server-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return loadConfig({ env: {}, cwd: dir, flags: { dataDir: dir, port: '0', symbols: SYMBOLS.join(','), logLevel: 'silent' } });
}

export interface Harness {
  readonly server: HttpServer;
  readonly store: MemoryStore;
  readonly stats: PipelineStats;
  readonly config: Config;
}

/** A server over a MemoryStore with the default intervals (5s, 1m); closed after the test. */
export function serverFor(t: TestContext, extra: Partial<HttpServerOptions> = {}, store = new MemoryStore()): Harness {
  const config = testConfig(t);
  const stats = new PipelineStats();
  const source: SourceStatus = { kind: 'simulator', state: 'connected', detail: 'ws://127.0.0.1:1' };
  const server = createHttpServer({
    host: '127.0.0.1',
    port: 0,
    store,
    stats,
    config,
    symbols: config.symbols,
    intervals: config.intervals,
    sourceStatus: () => source,
    ...extra,
  });
  t.after(() => server.close());
  return { server, store, stats, config };
}

export function trade(symbol: string, ts: number, seq: number, price = 100, volume = 1): StoredTrade {
  return {
    trade: {
      symbol,
      price: price as Price,
      volume: volume as Volume,
      ts: ts as EpochMs,
      conditions: seq % 2 === 0 ? [] : ['1'],
      source: 'simulator',
      ingestTs: (ts + 5) as EpochMs,
    },
    seq: seq as Offset,
  };
}

export function bar(symbol: string, interval: string, sizeMs: number, windowStart: number, close = 100): Bar {
  return {
    symbol,
    interval,
    windowStart: windowStart as EpochMs,
    windowEnd: (windowStart + sizeMs) as EpochMs,
    open: close - 1,
    high: close + 1,
    low: close - 2,
    close,
    volume: 10,
    vwap: close - 0.5,
    avgPrice: close - 0.25,
    tradeCount: 4,
  };
}

/** Polls until cond() holds; fails after the deadline. */
export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
