import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { epochMs, offset, price, volume, type Trade } from '../../src/domain/index.ts';
import { MigrationError, StoreUnavailableError } from '../../src/errors.ts';
import { openSqliteStore } from '../../src/store/index.ts';
import type { Migration } from '../../src/store/sqlite/migrate.ts';
import { MIGRATIONS } from '../../src/store/sqlite/migrations/index.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { TRADE_INSERT_COLUMNS, TRADE_RUN_COLUMNS } from '../../src/store/sqlite/rows.ts';
import { TRADE_COLUMNS } from '../../src/store/columns.ts';
import { storeContract } from '../contract/store.contract.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-sqlite-'));
  dirs.push(dir);
  return dir;
}
test.after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

storeContract('sqlite', async () => openSqliteStore({ path: join(tempDir(), 'store.db') }));

function tempPath(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-sqlite-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'nested', 'store.db');
}

test('sqlite store: migrations are recorded in schema_migrations, and the file is in WAL mode with 16 KB pages', async (t) => {
  const path = tempPath(t);
  const store = openSqliteStore({ path });
  const result = await store.migrate();
  await store.close();
  assert.deepEqual(result, { applied: ['0001-initial'], current: '0001-initial' });

  const db = new BetterSqlite3(path, { readonly: true });
  t.after(() => db.close());
  const rows = db.prepare('SELECT version, name, applied_at FROM schema_migrations').all() as { version: number; name: string; applied_at: number }[];
  assert.deepEqual(rows.map((r) => [r.version, r.name]), [[1, 'initial']]);
  assert.ok(rows[0]!.applied_at > 0);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('page_size', { simple: true }), 16_384);
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
  assert.deepEqual(tables, ['bars', 'checkpoints', 'schema_migrations', 'trades']);

  const reopened = openSqliteStore({ path });
  t.after(() => reopened.close());
  assert.deepEqual(await reopened.migrate(), { applied: [], current: '0001-initial' });
});

test('sqlite store: a failing migration names its version, and the store stays at the last good one', async (t) => {
  const path = tempPath(t);
  const broken: Migration = {
    version: 2,
    name: 'add-broken-column',
    up(db) {
      db.exec('ALTER TABLE bars ADD COLUMN extra INTEGER');
      db.exec('THIS IS NOT SQL');
    },
  };
  const store = new SqliteStore({ path, migrations: [...MIGRATIONS, broken] });
  t.after(() => store.close());
  await assert.rejects(store.migrate(), (error: unknown) => {
    assert.ok(error instanceof MigrationError);
    assert.equal(error.code, 'TICKSTREAM_STORE_MIGRATION_FAILED');
    assert.match(error.message, /migration 0002-add-broken-column failed/);
    return true;
  });
  await store.close();

  const db = new BetterSqlite3(path, { readonly: true });
  t.after(() => db.close());
  const versions = (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version);
  assert.deepEqual(versions, [1]);
  const columns = (db.prepare('PRAGMA table_info(bars)').all() as { name: string }[]).map((c) => c.name);
  assert.ok(!columns.includes('extra'), 'the failed step was rolled back');
});

test('sqlite store: a file that is not a database is reported as StoreUnavailableError', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-sqlite-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'garbage.db');
  writeFileSync(path, 'x'.repeat(4096));
  assert.throws(() => openSqliteStore({ path }), StoreUnavailableError);
});

test('sqlite store: a query on a broken schema rejects with StoreUnavailableError', async (t) => {
  const path = tempPath(t);
  const store = openSqliteStore({ path });
  t.after(() => store.close());
  await store.migrate();
  const other = new BetterSqlite3(path);
  other.exec('DROP TABLE trades');
  other.close();
  await assert.rejects(store.trades({ symbol: 'AAPL', limit: 1 }), { code: 'TICKSTREAM_STORE_UNAVAILABLE' });
});

test('sqlite store: a file made with another page size keeps it, and its data', async (t) => {
  // A file as an earlier version made it: SQLite's default 4 KB pages.
  const small = tempPath(t);
  mkdirSync(dirname(small), { recursive: true });
  const db = new BetterSqlite3(small);
  db.pragma('page_size = 4096');
  db.pragma('journal_mode = WAL');
  db.close();
  const store = openSqliteStore({ path: small });
  t.after(() => store.close());
  await store.migrate();
  const trade: Trade = { symbol: 'AAPL', price: price(1), volume: volume(1), ts: epochMs(1_700_000_000_000), conditions: [], source: 'simulator', ingestTs: epochMs(1_700_000_000_001) };
  await store.write({ trades: [{ trade, seq: offset(0) }], bars: [], checkpoints: [] });
  assert.deepEqual(await store.trades({ symbol: 'AAPL', limit: 10 }), [{ trade, seq: 0 }]);
  const check = new BetterSqlite3(small, { readonly: true });
  t.after(() => check.close());
  assert.equal(check.pragma('page_size', { simple: true }), 4096);
});

test('sqlite store: each trade row carries the UTC day of its ts, when one run of a symbol crosses midnight', async (t) => {
  const path = tempPath(t);
  const store = openSqliteStore({ path });
  t.after(() => store.close());
  await store.migrate();
  const midnight = Date.UTC(2024, 0, 3);
  // 400 trades of one symbol and source, half of them before midnight: one run in key order.
  const trades = Array.from({ length: 400 }, (_, i) => {
    const ts = midnight + (i - 200) * 100;
    const trade: Trade = { symbol: 'AAPL', price: price(100 + i), volume: volume(1), ts: epochMs(ts), conditions: [], source: 'simulator', ingestTs: epochMs(ts + 1) };
    return { trade, seq: offset(i) };
  });
  await store.write({ trades, bars: [], checkpoints: [] });
  const check = new BetterSqlite3(path, { readonly: true });
  t.after(() => check.close());
  const rows = check.prepare('SELECT day, ts FROM trades ORDER BY ts').all() as Array<{ day: string; ts: number }>;
  assert.equal(rows.length, trades.length);
  for (const row of rows) assert.equal(row.day, new Date(row.ts).toISOString().slice(0, 10), `the day of ts ${row.ts}`);
  assert.deepEqual(new Set(rows.map((r) => r.day)), new Set(['2024-01-02', '2024-01-03']));
});

test('sqlite store: the trade insert binds every trade column once, each row its own six and a run its shared three', () => {
  assert.deepEqual([...TRADE_INSERT_COLUMNS].sort(), [...TRADE_COLUMNS].sort());
  assert.equal(new Set(TRADE_INSERT_COLUMNS).size, TRADE_COLUMNS.length);
  assert.deepEqual(TRADE_INSERT_COLUMNS.slice(-TRADE_RUN_COLUMNS.length), [...TRADE_RUN_COLUMNS]);
});
