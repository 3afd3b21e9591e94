import type { CqlMigration } from '../migrate.ts';
import { initial } from './0001-initial.ts';

/** Every migration, in version order. A change is a new file here, never an edit of an applied one (its checksum is kept). */
export const CQL_MIGRATIONS: readonly CqlMigration[] = [initial];
