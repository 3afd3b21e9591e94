import { rmdirSync } from 'node:fs';
import { appendFile, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { lockIfFree, lockOwnDirectory, type DirectoryLock } from '../../directory-lock.ts';

const WHAT = 'the side-topic entries Kafka has not taken';

/**
 * This process's directory for side-topic entries that Kafka has not taken (under
 * `<dataDir>/unsent/`, named after the host and pid and held through a lock file), shared by
 * its side logs. Processes that share a data dir, or containers that share a volume, each keep
 * their own.
 */
export class UnsentDir {
  readonly root: string;
  readonly #lock: DirectoryLock;

  constructor(root: string) {
    this.root = root;
    this.#lock = lockOwnDirectory(root, WHAT);
  }

  get dir(): string {
    return this.#lock.dir;
  }

  /** Gives the directory up; an empty one is removed, one with entries is left for the next process. */
  close(): void {
    this.#lock.release();
    removeIfEmpty(this.dir);
  }
}

/** A file of entries taken for sending: only this process reads it, and deletes it once Kafka has them all. */
export interface TakenFile {
  readonly path: string;
  /** Each entry's JSON text, as it was appended. */
  readonly values: readonly string[];
  /** Lines that are no JSON (the torn end of a write cut short by a crash); they are dropped. */
  readonly torn: number;
}

/**
 * One topic's kept entries in this process's UnsentDir: appends go to `<topic>.ndjson`.
 * take() renames that file to `<topic>.<n>.sending`, and moves in those of directories whose
 * process has gone, so that appends made meanwhile start a new file and each file is sent by
 * one process only. Appends and takes run one after another, so no append lands in a file taken.
 */
export class UnsentEntries {
  readonly topic: string;
  /** The file this process appends to. */
  readonly path: string;
  readonly #dir: UnsentDir;
  #queue: Promise<unknown> = Promise.resolve();
  #taken = 0;

  constructor(dir: UnsentDir, topic: string) {
    this.#dir = dir;
    this.topic = topic;
    this.path = join(dir.dir, `${topic}.ndjson`);
  }

  append(values: readonly string[]): Promise<void> {
    return this.#inTurn(() => appendFile(this.path, values.map((v) => `${v}\n`).join('')));
  }

  /** Claims what is there to send, oldest first: files taken before and not yet sent come first. */
  take(): Promise<TakenFile[]> {
    return this.#inTurn(async () => {
      const own = this.#dir.dir;
      const mine: { path: string; n: number }[] = [];
      for (const { name, n } of this.#files(await readdir(own))) {
        if (n === undefined) continue;
        mine.push({ path: join(own, name), n });
        this.#taken = Math.max(this.#taken, n);
      }
      const moveIn = async (from: string): Promise<void> => {
        const n = ++this.#taken;
        const to = join(own, `${this.topic}.${n}.sending`);
        await rename(from, to);
        mine.push({ path: to, n });
      };
      await this.#claimLeftOver(moveIn);
      try {
        await moveIn(this.path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
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

  /** Moves in this topic's files from the directories of processes that have gone, oldest first. */
  async #claimLeftOver(moveIn: (from: string) => Promise<void>): Promise<void> {
    for (const entry of await readdir(this.#dir.root, { withFileTypes: true })) {
      const dir = join(this.#dir.root, entry.name);
      if (!entry.isDirectory() || dir === this.#dir.dir) continue;
      const lock = lockIfFree(dir, WHAT);
      if (lock === undefined) continue;
      try {
        const files = this.#files(await readdir(dir)).sort((a, b) => (a.n ?? Infinity) - (b.n ?? Infinity));
        for (const f of files) await moveIn(join(dir, f.name));
      } finally {
        lock.release();
        removeIfEmpty(dir);
      }
    }
  }

  /** `<topic>.ndjson` (appended, n undefined) and `<topic>.<n>.sending` (taken); anything else is not this topic's. */
  #files(names: readonly string[]): { name: string; n?: number }[] {
    const out: { name: string; n?: number }[] = [];
    for (const name of names) {
      if (!name.startsWith(`${this.topic}.`)) continue;
      const rest = name.slice(this.topic.length + 1);
      if (rest === 'ndjson') out.push({ name });
      const match = /^(\d+)\.sending$/.exec(rest);
      if (match !== null) out.push({ name, n: Number(match[1]) });
    }
    return out;
  }

  #inTurn<R>(work: () => Promise<R>): Promise<R> {
    const next = this.#queue.then(work);
    this.#queue = next.catch(() => {});
    return next;
  }
}

function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // Not empty (entries wait in it), or already gone.
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
