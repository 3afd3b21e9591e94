import type { Database } from 'better-sqlite3';
import type { Migration } from '../migrate.ts';

/**
 * The tables of DESIGN.md "Storage", mirrored from the Cassandra keyspace. Tables are
 * WITHOUT ROWID so rows sit in primary-key order: a symbol's newest trades and bars are
 * one index range read backwards.
 */
export const initial: Migration = {
  version: 1,
  name: 'initial',
  up(db: Database): void {
    db.exec(`
      CREATE TABLE trades (
        symbol     TEXT    NOT NULL,
        day        TEXT    NOT NULL,
        ts         INTEGER NOT NULL,
        seq        INTEGER NOT NULL,
        price      REAL    NOT NULL,
        volume     REAL    NOT NULL,
        conditions TEXT    NOT NULL,
        source     TEXT    NOT NULL,
        ingest_ts  INTEGER NOT NULL,
        PRIMARY KEY (symbol, day, ts, seq)
      ) WITHOUT ROWID;

      CREATE TABLE bars (
        symbol       TEXT    NOT NULL,
        interval     TEXT    NOT NULL,
        window_start INTEGER NOT NULL,
        window_end   INTEGER NOT NULL,
        open         REAL    NOT NULL,
        high         REAL    NOT NULL,
        low          REAL    NOT NULL,
        close        REAL    NOT NULL,
        volume       REAL    NOT NULL,
        vwap         REAL,
        avg_price    REAL    NOT NULL,
        trade_count  INTEGER NOT NULL,
        updated_at   INTEGER NOT NULL,
        PRIMARY KEY (symbol, interval, window_start)
      ) WITHOUT ROWID;

      CREATE TABLE checkpoints (
        engine_id   TEXT    NOT NULL,
        partition   INTEGER NOT NULL,
        next_offset INTEGER NOT NULL,
        state       TEXT    NOT NULL,
        updated_at  INTEGER NOT NULL,
        PRIMARY KEY (engine_id, partition)
      ) WITHOUT ROWID;
    `);
  },
};
