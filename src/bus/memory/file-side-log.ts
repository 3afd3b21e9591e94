import { createWriteStream, mkdirSync, renameSync, statSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import type { SideLog } from '../bus.ts';

/** Where a side file starts over: the one before is kept beside it as `<path>.1`, so at most twice this is on disk. */
export const SIDE_FILE_MAX_BYTES = 64 * 1024 * 1024;

export interface FileSideLogOptions {
  /** The size past which the file is moved to `<path>.1` (replacing the one there) and a new one begins. */
  readonly maxBytes?: number;
}

/**
 * A side topic of the embedded profile (dead letters, late trades) kept as an
 * NDJSON file, so nothing set aside is lost when the process ends. Like a Kafka
 * topic's retention, the file has a bound: once it passes `maxBytes`, it becomes
 * `<path>.1` and the next entries start a new file, so a source that sends
 * nothing but bad frames cannot fill the disk.
 */
export class FileSideLog<T> implements SideLog<T> {
  readonly path: string;
  readonly #maxBytes: number;
  #out: WriteStream | undefined;
  #bytes = 0;
  /** Appends run one after another: a rollover closes the stream that a later append would write to. */
  #queue: Promise<void> = Promise.resolve();

  constructor(path: string, options: FileSideLogOptions = {}) {
    this.path = path;
    this.#maxBytes = options.maxBytes ?? SIDE_FILE_MAX_BYTES;
  }

  append(entries: readonly T[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    let text = '';
    for (const e of entries) text += `${JSON.stringify(e)}\n`;
    const run = this.#queue.then(() => this.#write(text));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #write(text: string): Promise<void> {
    const size = Buffer.byteLength(text);
    let out = this.#out ?? this.#open();
    if (this.#bytes > 0 && this.#bytes + size > this.#maxBytes) {
      await this.#end();
      renameSync(this.path, `${this.path}.1`);
      out = this.#open();
    }
    this.#bytes += size;
    if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', resolve));
  }

  #open(): WriteStream {
    mkdirSync(dirname(this.path), { recursive: true });
    try {
      this.#bytes = statSync(this.path).size;
    } catch {
      this.#bytes = 0;
    }
    const out = createWriteStream(this.path, { flags: 'a' });
    this.#out = out;
    return out;
  }

  async #end(): Promise<void> {
    const out = this.#out;
    this.#out = undefined;
    if (out) await new Promise<void>((resolve) => out.end(resolve));
  }

  async close(): Promise<void> {
    await this.#queue;
    await this.#end();
  }
}
