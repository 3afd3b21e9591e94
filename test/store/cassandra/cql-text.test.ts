import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fillPlaceholders, splitStatements } from '../../../src/store/cassandra/cql-text.ts';
import { migrationChecksum, migrationLabel, migrationStatements } from '../../../src/store/cassandra/migrate.ts';
import { CQL_MIGRATIONS } from '../../../src/store/cassandra/migrations/index.ts';

test('a script splits at semicolons into trimmed statements, comments dropped', () => {
  const script = `
    -- the first table
    CREATE TABLE a (x int PRIMARY KEY);
    // the second
    CREATE TABLE b (y int PRIMARY KEY) /* inline; not an end */ WITH comment = 'b';

  `;
  assert.deepEqual(splitStatements(script), ["CREATE TABLE a (x int PRIMARY KEY)", "CREATE TABLE b (y int PRIMARY KEY)   WITH comment = 'b'"]);
});

test('semicolons and comment markers inside strings, quoted names and $$ bodies do not split', () => {
  const script = `INSERT INTO t (a) VALUES ('x; -- y; it''s');
CREATE TABLE "we;ird" (a int PRIMARY KEY);
CREATE FUNCTION f() RETURNS NULL ON NULL INPUT RETURNS int LANGUAGE java AS $$ return 1; $$;
SELECT 1`;
  assert.deepEqual(splitStatements(script), [
    "INSERT INTO t (a) VALUES ('x; -- y; it''s')",
    'CREATE TABLE "we;ird" (a int PRIMARY KEY)',
    'CREATE FUNCTION f() RETURNS NULL ON NULL INPUT RETURNS int LANGUAGE java AS $$ return 1; $$',
    'SELECT 1',
  ]);
});

test('placeholders are filled, and an unknown one is an error', () => {
  assert.equal(fillPlaceholders('CREATE TABLE {{keyspace}}.t', { keyspace: 'market' }), 'CREATE TABLE market.t');
  assert.throws(() => fillPlaceholders('CREATE TABLE {{keyspcae}}.t', { keyspace: 'market' }), /unknown placeholder \{\{keyspcae\}\}/);
});

test('the built-in migrations have unique ascending versions and render to CREATE statements for any keyspace', () => {
  const versions = CQL_MIGRATIONS.map((m) => m.version);
  assert.deepEqual(versions, [...new Set(versions)].sort((a, b) => a - b));
  assert.equal(migrationLabel(CQL_MIGRATIONS[0]!), '0001-initial');
  const statements = migrationStatements(CQL_MIGRATIONS[0]!, { keyspace: 'market_x', replication: "{'class': 'SimpleStrategy', 'replication_factor': 1}" });
  assert.equal(statements.length, 6);
  for (const s of statements) {
    assert.match(s, /^CREATE (KEYSPACE|TABLE) IF NOT EXISTS market_x\b/);
    assert.doesNotMatch(s, /\{\{/);
  }
  assert.ok(statements.some((s) => /PRIMARY KEY \(\(symbol, day\), ts, seq\)\s*\) WITH CLUSTERING ORDER BY \(ts DESC, seq DESC\)/.test(s)));
  assert.ok(statements.some((s) => /PRIMARY KEY \(\(symbol, interval\), window_start\)\s*\) WITH CLUSTERING ORDER BY \(window_start DESC\)/.test(s)));
});

test('a checksum depends on the script as written, not on the keyspace it is applied to', () => {
  const m = CQL_MIGRATIONS[0]!;
  assert.match(migrationChecksum(m), /^[0-9a-f]{64}$/);
  assert.equal(migrationChecksum(m), migrationChecksum({ cql: m.cql }));
  assert.notEqual(migrationChecksum(m), migrationChecksum({ cql: `${m.cql} ` }));
});
