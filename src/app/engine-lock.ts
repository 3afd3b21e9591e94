import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { lockDirectory, type DirectoryLock } from '../directory-lock.ts';

/** Under the data dir: a directory per engine id, held by the embedded engine that runs under it. */
const ENGINES_DIR = 'engines';
/** Longer names are cut and given a hash: file systems refuse names over 255 bytes. */
const MAX_NAME = 100;

/**
 * Takes the directory of the embedded engine `engineId` in `dataDir` for this process, until
 * release(). Two engines under one id on one data dir would resume from the same checkpoint
 * and save over each other's, and their bars would no longer match the stored trades; the
 * second fails here, with one line naming the data dir and the process that holds it.
 */
export function lockEngine(dataDir: string, engineId: string): DirectoryLock {
  const dir = join(dataDir, ENGINES_DIR, engineDirName(engineId));
  mkdirSync(dir, { recursive: true });
  return lockDirectory(dir, `the ${engineId} engine`, dataDir);
}

/**
 * A file name for an engine id: letters, digits, `_` and `-` stay, every other byte of its
 * UTF-8 becomes `%XX`, so that no id is `.`, `..`, holds a `/`, or names another id's directory.
 * Ids that differ only in case share a lock on a file system that ignores case: the second
 * is refused, which is safe, if needless.
 * Exported for its test.
 */
export function engineDirName(engineId: string): string {
  let name = '';
  for (const byte of Buffer.from(engineId, 'utf8')) {
    const c = String.fromCharCode(byte);
    name += /[A-Za-z0-9_-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  // '%' alone is no encoding of a non-empty id.
  if (name === '') return '%';
  if (name.length <= MAX_NAME) return name;
  const hash = createHash('sha256').update(engineId).digest('hex').slice(0, 16);
  return `${name.slice(0, MAX_NAME - hash.length - 1)}~${hash}`;
}
