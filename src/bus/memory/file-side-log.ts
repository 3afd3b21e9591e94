import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import type { SideLog } from '../bus.ts';

/**
 * A side topic of the embedded profile (dead letters, late trades) kept as an
 * append-only NDJSON file, so nothing set aside is lost when the process ends.
 */
export class FileSideLog<T> implements SideLog<T> {
  readonly path: string;
  #out: WriteStream | undefined;

  constructor(path: string) {
    this.path = path;
  }

  async append(entries: readonly T[]): Promise<void> {
    if (entries.length === 0) return;
    if (this.#out === undefined) {
      mkdirSync(dirname(this.path), { recursive: true });
      this.#out = createWriteStream(this.path, { flags: 'a' });
    }
    let text = '';
    for (const e of entries) text += `${JSON.stringify(e)}\n`;
    if (!this.#out.write(text)) await new Promise<void>((resolve) => this.#out?.once('drain', resolve));
  }

  async close(): Promise<void> {
    const out = this.#out;
    this.#out = undefined;
    if (out) await new Promise<void>((resolve) => out.end(resolve));
  }
}
