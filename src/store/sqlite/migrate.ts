import type { Database } from 'better-sqlite3';
import { MigrationError } from '../../errors.ts';
import type { MigrationResult } from '../store.ts';

/** One schema step. `up` runs inside a transaction; a throw rolls the step back. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  up(db: Database): void;
}

/** How a migration is named in results and messages: `0001-initial`. */
export function migrationLabel(m: Pick<Migration, 'version' | 'name'>): string {
  return `${String(m.version).padStart(4, '0')}-${m.name}`;
}

/**
 * Applies the migrations newer than the recorded version, each in its own transaction and
 * recorded in schema_migrations with it, so a failure leaves the store at the last good version.
 */
export function applyMigrations(db: Database, migrations: readonly Migration[], nowMs: number): MigrationResult {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.version === sorted[i - 1]!.version) {
      throw new MigrationError(`two migrations have version ${sorted[i]!.version}: ${sorted[i - 1]!.name} and ${sorted[i]!.name}`);
    }
  }
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
  )`);
  const done = new Map<number, string>();
  for (const row of db.prepare('SELECT version, name FROM schema_migrations').all() as { version: number; name: string }[]) {
    done.set(row.version, row.name);
  }
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  const applied: string[] = [];
  for (const m of sorted) {
    if (done.has(m.version)) continue;
    const label = migrationLabel(m);
    try {
      db.transaction(() => {
        m.up(db);
        record.run(m.version, m.name, nowMs);
      })();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new MigrationError(`migration ${label} failed: ${reason}`, { cause: error });
    }
    done.set(m.version, m.name);
    applied.push(label);
  }
  let current = 'none';
  let top = -Infinity;
  for (const [version, name] of done) {
    if (version > top) {
      top = version;
      current = migrationLabel({ version, name });
    }
  }
  return { applied, current };
}
