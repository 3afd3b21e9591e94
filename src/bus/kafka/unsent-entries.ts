import { appendFile, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isRunning } from './directory-lock.ts';

/** A file of entries taken for sending: only this process reads it, and deletes it once Kafka has them all. */
export interface TakenFile {
  readonly path: string;
  /** Each entry's JSON text, as it was appended. */
  readonly values: readonly string[];
  /** Lines that are no JSON (the torn end of a write cut short by a crash); they are dropped. */
  readonly torn: number;
}

/**
 * Side-topic entries that Kafka has not taken, kept as NDJSON under `dir` until they are sent.
 * This process appends to `<topic>.<pid>.ndjson`, which no other process touches while it runs.
 * take() renames that file, and any left by a process that has gone, to
 * `<topic>.<pid>-<n>.sending`, so appends made meanwhile start a new file and a file is sent by
 * one process only. Appends and takes run one after another, so no append lands in a file taken.
 */
export class UnsentEntries {
  readonly dir: string;
  readonly topic: string;
  /** The file this process appends to. */
  readonly path: string;
  #queue: Promise<unknown> = Promise.resolve();
  #taken = 0;

  constructor(dir: string, topic: string) {
    this.dir = dir;
    this.topic = topic;
    this.path = join(dir, `${topic}.${process.pid}.ndjson`);
  }

  append(values: readonly string[]): Promise<void> {
    return this.#inTurn(async () => {
      await mkdir(this.dir, { recursive: true });
      await appendFile(this.path, values.map((v) => `${v}\n`).join(''));
    });
  }

  /** Claims what is there to send, oldest first: files taken before and not yet sent come first. */
  take(): Promise<TakenFile[]> {
    return this.#inTurn(async () => {
      let names: string[];
      try {
        names = await readdir(this.dir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw error;
      }
      const mine: { n: number; path: string }[] = [];
      const claim: string[] = [];
      for (const name of names) {
        const file = this.#parse(name);
        if (file === undefined) continue;
        if (file.pid === process.pid && file.n !== undefined) mine.push({ n: file.n, path: join(this.dir, name) });
        else if (file.pid === process.pid || !isRunning(file.pid)) claim.push(name);
      }
      for (const name of claim.sort()) {
        const to = join(this.dir, `${this.topic}.${process.pid}-${this.#nextN(mine)}.sending`);
        try {
          await rename(join(this.dir, name), to);
        } catch (error) {
          // Another process that started at the same time claimed it first.
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
          throw error;
        }
        mine.push({ n: this.#taken, path: to });
      }
      mine.sort((a, b) => a.n - b.n);
      const taken: TakenFile[] = [];
      for (const { path } of mine) taken.push(readTaken(path, await readFile(path, 'utf8')));
      return taken;
    });
  }

  /** Kafka has every entry of the file. */
  sent(file: TakenFile): Promise<void> {
    return rm(file.path, { force: true });
  }

  #nextN(mine: readonly { n: number }[]): number {
    for (const { n } of mine) this.#taken = Math.max(this.#taken, n);
    return ++this.#taken;
  }

  /** `<topic>.<pid>.ndjson` (appended) or `<topic>.<pid>-<n>.sending` (taken); anything else is not ours. */
  #parse(name: string): { pid: number; n?: number } | undefined {
    if (!name.startsWith(`${this.topic}.`)) return undefined;
    const match = /^(\d+)(?:\.ndjson|-(\d+)\.sending)$/.exec(name.slice(this.topic.length + 1));
    if (match === null) return undefined;
    return match[2] === undefined ? { pid: Number(match[1]) } : { pid: Number(match[1]), n: Number(match[2]) };
  }

  #inTurn<R>(work: () => Promise<R>): Promise<R> {
    const next = this.#queue.then(work);
    this.#queue = next.catch(() => {});
    return next;
  }
}

function readTaken(path: string, text: string): TakenFile {
  const values: string[] = [];
  let torn = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      JSON.parse(line);
      values.push(line);
    } catch {
      torn++;
    }
  }
  return { path, values, torn };
}
