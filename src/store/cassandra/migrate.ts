import { createHash } from 'node:crypto';
import type { Client } from 'cassandra-driver';
import { MigrationError } from '../../errors.ts';
import type { Logger } from '../../observability/index.ts';
import type { MigrationResult } from '../store.ts';
import { fillPlaceholders, splitStatements } from './cql-text.ts';
import { describeDriverError, isRetryable, storeError } from './driver-errors.ts';

/** One schema step: a CQL script with {{keyspace}} and {{replication}} placeholders. */
export interface CqlMigration {
  readonly version: number;
  readonly name: string;
  readonly cql: string;
}

export interface CqlMigrationContext {
  readonly keyspace: string;
  /** A CQL replication map, e.g. `{'class': 'SimpleStrategy', 'replication_factor': 1}`. */
  readonly replication: string;
  readonly nowMs: number;
  readonly log: Logger;
  /** How long to wait for every node to agree on the schema after a DDL statement. */
  readonly schemaAgreementTimeoutMs?: number;
  readonly schemaAgreementPollMs?: number;
}

interface AppliedRow {
  readonly name: string;
  readonly checksum: string;
}

/** How a migration is named in results and messages, and its file name: `0001-initial`. */
export function migrationLabel(m: Pick<CqlMigration, 'version' | 'name'>): string {
  return `${String(m.version).padStart(4, '0')}-${m.name}`;
}

/** sha256 of the script as written (before placeholders), so it is the same in every keyspace. */
export function migrationChecksum(m: Pick<CqlMigration, 'cql'>): string {
  return createHash('sha256').update(m.cql).digest('hex');
}

/** The statements a migration sends, placeholders filled. */
export function migrationStatements(m: Pick<CqlMigration, 'cql'>, values: { readonly keyspace: string; readonly replication: string }): string[] {
  return splitStatements(m.cql).map((s) => fillPlaceholders(s, values));
}

/**
 * Applies the migrations not yet recorded in `<keyspace>.schema_migrations`, in version
 * order, each statement followed by a wait for schema agreement, and records each one
 * (with its checksum) once all its statements succeeded. Cassandra DDL is not
 * transactional: a migration that fails half-way stays unrecorded, and since its statements
 * are IF NOT EXISTS the next run repeats it from the top. A recorded migration whose text has
 * changed since is refused: add a new one instead.
 */
export async function applyCqlMigrations(client: Client, migrations: readonly CqlMigration[], ctx: CqlMigrationContext): Promise<MigrationResult> {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.version === sorted[i - 1]!.version) {
      throw new MigrationError(`two Cassandra migrations have version ${sorted[i]!.version}: ${sorted[i - 1]!.name} and ${sorted[i]!.name}`);
    }
  }
  const done = await appliedMigrations(client, ctx.keyspace);
  for (const m of sorted) {
    const row = done.get(m.version);
    if (row !== undefined && row.checksum !== migrationChecksum(m)) {
      throw new MigrationError(
        `Cassandra migration ${migrationLabel(m)} was changed after it was applied to keyspace ${ctx.keyspace} (checksum ${row.checksum.slice(0, 12)}… recorded, ${migrationChecksum(m).slice(0, 12)}… now); restore it and add a new migration instead`,
      );
    }
  }

  const applied: string[] = [];
  for (const m of sorted) {
    if (done.has(m.version)) continue;
    const label = migrationLabel(m);
    let statements: string[];
    try {
      statements = migrationStatements(m, ctx);
    } catch (error) {
      throw new MigrationError(`Cassandra migration ${label} cannot be read: ${reason(error)}`, { cause: error });
    }
    for (let k = 0; k < statements.length; k++) {
      const statement = statements[k]!;
      try {
        const rs = await client.execute(statement);
        // The driver waits (protocolOptions.maxSchemaAgreementWaitSeconds) and reports whether nodes agree; untyped in its .d.ts.
        const agreed = (rs.info as { isSchemaInAgreement?: boolean }).isSchemaInAgreement;
        if (agreed === false) await waitForSchemaAgreement(client, ctx);
      } catch (error) {
        throw new MigrationError(
          `Cassandra migration ${label} failed at statement ${k + 1} of ${statements.length} (${firstLine(statement)}): ${reason(error)}`,
          { cause: error, canRetry: isRetryable(error) },
        );
      }
    }
    try {
      await client.execute(
        `INSERT INTO ${ctx.keyspace}.schema_migrations (version, name, applied_at, checksum) VALUES (?, ?, ?, ?)`,
        [m.version, m.name, new Date(ctx.nowMs), migrationChecksum(m)],
        { prepare: true, isIdempotent: true },
      );
    } catch (error) {
      throw new MigrationError(`Cassandra migration ${label} ran but could not be recorded: ${reason(error)}`, { cause: error, canRetry: isRetryable(error) });
    }
    ctx.log.info('cassandra migration applied', { migration: label, keyspace: ctx.keyspace });
    done.set(m.version, { name: m.name, checksum: migrationChecksum(m) });
    applied.push(label);
  }

  let current = 'none';
  let top = -Infinity;
  for (const [version, row] of done) {
    if (version > top) {
      top = version;
      current = migrationLabel({ version, name: row.name });
    }
  }
  return { applied, current };
}

/** The recorded migrations; none when the keyspace or its schema_migrations table does not exist yet. */
async function appliedMigrations(client: Client, keyspace: string): Promise<Map<number, AppliedRow>> {
  const done = new Map<number, AppliedRow>();
  try {
    const table = await client.execute(
      'SELECT table_name FROM system_schema.tables WHERE keyspace_name = ? AND table_name = ?',
      [keyspace, 'schema_migrations'],
      { prepare: true, isIdempotent: true },
    );
    if (table.rowLength === 0) return done;
    const rows = await client.execute(`SELECT version, name, checksum FROM ${keyspace}.schema_migrations`, [], { prepare: true, isIdempotent: true });
    for (const row of rows.rows) done.set(row.get('version') as number, { name: row.get('name') as string, checksum: (row.get('checksum') as string | null) ?? '' });
  } catch (error) {
    throw storeError(`reading the migrations of keyspace ${keyspace}`, error);
  }
  return done;
}

async function waitForSchemaAgreement(client: Client, ctx: CqlMigrationContext): Promise<void> {
  // checkSchemaAgreement exists on the driver's Metadata but is missing from its .d.ts.
  const metadata = client.metadata as unknown as { checkSchemaAgreement(): Promise<boolean> };
  const timeoutMs = ctx.schemaAgreementTimeoutMs ?? 60_000;
  const pollMs = ctx.schemaAgreementPollMs ?? 500;
  const deadline = Date.now() + timeoutMs;
  ctx.log.warn('waiting for Cassandra nodes to agree on the schema', { keyspace: ctx.keyspace });
  while (!(await metadata.checkSchemaAgreement())) {
    if (Date.now() >= deadline) throw new Error(`the nodes did not agree on the schema within ${Math.round(timeoutMs / 1000)} s`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

function firstLine(statement: string): string {
  const line = statement.split('\n', 1)[0]!.trim();
  return line.length > 80 ? `${line.slice(0, 77)}...` : line;
}

function reason(error: unknown): string {
  return describeDriverError(error);
}
