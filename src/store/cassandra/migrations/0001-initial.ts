import type { CqlMigration } from '../migrate.ts';

/**
 * The keyspace and tables of DESIGN.md "Storage". {{keyspace}} is cassandra.keyspace and
 * {{replication}} the replication map given to the store (SimpleStrategy, factor 1, for the
 * local single-node stack). Every statement is IF NOT EXISTS, so a run cut off half-way
 * can simply be repeated.
 *
 * - trades: one partition per symbol and UTC day, newest first; `seq` is the log offset.
 * - trade_days: which days a symbol has trades, newest first, so "latest trades" reads a
 *   bounded list of day partitions instead of guessing dates.
 * - bars: one partition per symbol and interval, newest window first; rows carry a TTL by
 *   interval (bar-ttl.ts), written with each insert.
 * - checkpoints: one partition per engine, a row per log partition.
 * - trade_count is bigint: a bar may count more than 2^31 trades.
 */
export const initial: CqlMigration = {
  version: 1,
  name: 'initial',
  cql: `
CREATE KEYSPACE IF NOT EXISTS {{keyspace}}
  WITH replication = {{replication}};

CREATE TABLE IF NOT EXISTS {{keyspace}}.schema_migrations (
  version    int PRIMARY KEY,
  name       text,
  applied_at timestamp,
  checksum   text
);

CREATE TABLE IF NOT EXISTS {{keyspace}}.trades (
  symbol     text,
  day        date,
  ts         bigint,
  seq        bigint,
  price      double,
  volume     double,
  conditions frozen<list<text>>,
  source     text,
  ingest_ts  bigint,
  PRIMARY KEY ((symbol, day), ts, seq)
) WITH CLUSTERING ORDER BY (ts DESC, seq DESC);

CREATE TABLE IF NOT EXISTS {{keyspace}}.trade_days (
  symbol text,
  day    date,
  PRIMARY KEY ((symbol), day)
) WITH CLUSTERING ORDER BY (day DESC);

CREATE TABLE IF NOT EXISTS {{keyspace}}.bars (
  symbol       text,
  interval     text,
  window_start bigint,
  window_end   bigint,
  open         double,
  high         double,
  low          double,
  close        double,
  volume       double,
  vwap         double,
  avg_price    double,
  trade_count  bigint,
  updated_at   timestamp,
  PRIMARY KEY ((symbol, interval), window_start)
) WITH CLUSTERING ORDER BY (window_start DESC);

CREATE TABLE IF NOT EXISTS {{keyspace}}.checkpoints (
  engine_id   text,
  partition   int,
  next_offset bigint,
  state       text,
  updated_at  timestamp,
  PRIMARY KEY ((engine_id), partition)
);
`,
};
