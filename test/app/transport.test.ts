import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openTransport, sideLogPlaces } from '../../src/app/transport.ts';
import type { LogRecord } from '../../src/bus/index.ts';
import { loadConfig } from '../../src/config/index.ts';
import { epochMs, price, volume, type Trade } from '../../src/domain/index.ts';
import { silentLogger } from '../../src/observability/index.ts';
import { until } from '../support/until.ts';

const SYMBOLS = ['AAPL', 'MSFT', 'NVDA'];

function trades(n: number): Trade[] {
  return Array.from({ length: n }, (_, i) => ({
    symbol: SYMBOLS[i % SYMBOLS.length]!,
    price: price(100 + i),
    volume: volume(1),
    ts: epochMs(1_700_000_000_000 + i),
    conditions: [],
    source: 'simulator' as const,
    ingestTs: epochMs(0),
  }));
}

test('in-process log: the engine is behind the log end marked after an append until it has read every record', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tickstream-transport-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const config = loadConfig({ env: {}, cwd: dataDir, flags: { dataDir, logLevel: 'silent' } });
  const transport = openTransport(config, { dataDir, logger: silentLogger, onError: (error) => assert.fail(String(error)) });
  t.after(() => transport.close());

  const input = trades(30);
  await transport.producer.append(input);
  const behind = await transport.behindLogEnd();
  assert.equal(behind(), true, 'nothing was read yet');

  const seen: LogRecord[] = [];
  await transport.consumer().start({
    assigned: async () => new Map(),
    revoked: async () => {},
    records: async (_partition, records) => void seen.push(...records),
  });
  await until(() => !behind(), 'the engine to reach the log end');
  assert.equal(seen.length, input.length, 'every record appended before the mark was read by then');
});

test('dead letters and late trades are set aside in files under the data dir (embedded) or in Kafka topics (cluster)', (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tickstream-transport-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const embedded = loadConfig({ env: {}, cwd: dataDir, flags: { dataDir, logLevel: 'silent' } });
  assert.deepEqual(sideLogPlaces(embedded), { deadLetters: join(dataDir, 'market.trades.dlq.ndjson'), late: join(dataDir, 'market.trades.late.ndjson') });
  const cluster = loadConfig({ env: {}, cwd: dataDir, flags: { dataDir, profile: 'cluster', 'kafka.topic': 'desk.trades', logLevel: 'silent' } });
  assert.deepEqual(sideLogPlaces(cluster), { deadLetters: 'Kafka topic desk.trades.dlq', late: 'Kafka topic desk.trades.late' });
});
