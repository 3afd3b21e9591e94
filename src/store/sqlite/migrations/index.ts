import type { Migration } from '../migrate.ts';
import { initial } from './0001-initial.ts';

/** Every migration, in version order. A new one is a new file here, never an edit of an applied one. */
export const MIGRATIONS: readonly Migration[] = [initial];
