import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SparkError } from '../errors.ts';
import { replaceFile } from '../replace-file.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUuid = (text: string): boolean => UUID.test(text);

/**
 * The Spark Connect session id, kept in a file so that a restarted client joins the same
 * server session, and so sees (and keeps alive) the streaming queries it started before.
 * A missing file gets a fresh UUID; a file holding anything but a UUID is an error rather
 * than silently replaced, since replacing it would orphan the queries of the old session.
 */
export function loadOrCreateSessionId(file: string): string {
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new SparkError(`cannot read the Spark Connect session id file ${file}: ${(error as Error).message}`, { cause: error });
    }
  }
  if (text !== undefined) {
    if (!isUuid(text)) {
      throw new SparkError(`the Spark Connect session id file ${file} holds ${JSON.stringify(text.slice(0, 60))}, not a UUID; delete it to start a new session`);
    }
    return text.toLowerCase();
  }
  const id = randomUUID();
  replaceFile(file, `${id}\n`);
  return id;
}
