import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { StartError } from './errors.ts';

const LOCK_FILE = 'lock';
/** The holder touches its lock this often; a lock not touched for STALE_MS is left over. */
const HEARTBEAT_MS = 5_000;
const STALE_MS = 30_000;

/** A directory held by this process until release(). */
export interface DirectoryLock {
  readonly dir: string;
  release(): void;
}

/** Who holds a lock: the pid alone is not enough where containers share a volume, each with its node as pid 1. */
interface Holder {
  readonly host: string;
  readonly pid: number;
  /** When the process started (epoch ms): a process started again under the same pid is another one. */
  readonly started: number;
}

const self = (): Holder => ({ host: hostname(), pid: process.pid, started: Math.round(performance.timeOrigin) });

/**
 * Takes `dir` for this process: creates `<dir>/lock` naming it, and fails with one line if a
 * live process holds it already (this one included). `what` names the user of the directory
 * in that line, and `inUse` the directory the line says is in use (`dir` unless given: a
 * lock deep in the data dir names the data dir the user chose). The holder touches the lock
 * every few seconds. A lock left over is taken over: on this host, one whose process has gone
 * (or is another program now, or is this pid started again, as in a restarted container);
 * from another host sharing the directory, one not touched for 30 s.
 */
export function lockDirectory(dir: string, what: string, inUse: string = dir): DirectoryLock {
  const taken = tryLock(dir, what);
  if (!('holder' in taken)) return taken;
  const { holder } = taken;
  const who = holder.host === hostname() && holder.pid === process.pid ? 'this process' : `process ${holder.pid} on ${holder.host}`;
  throw new StartError(`${inUse} is in use by ${what} of ${who}: give each one its own --data-dir (or delete ${join(dir, LOCK_FILE)} if no tickstream runs there)`);
}

/**
 * Takes a directory of this process's own under `root`, named after the host and pid (`-2`,
 * `-3` for a second and third in the same process), so that processes sharing a data dir, and
 * containers each with its node as pid 1 on a shared volume, never write to the same files.
 */
export function lockOwnDirectory(root: string, what: string): DirectoryLock {
  const base = `${hostname()}-${process.pid}`;
  for (let n = 1; ; n++) {
    const dir = join(root, n === 1 ? base : `${base}-${n}`);
    mkdirSync(dir, { recursive: true });
    const taken = tryLock(dir, what);
    // Only this very process can hold a directory named after its host and pid.
    if (!('holder' in taken)) return taken;
  }
}

/** The lock, or who holds it. */
function tryLock(dir: string, what: string): DirectoryLock | { readonly holder: Holder } {
  const path = join(dir, LOCK_FILE);
  const me = self();
  const text = `${JSON.stringify(me)}\n`;
  // Each further attempt follows a lock left over and removed, or one released meanwhile.
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      createLockFile(path, text);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Another process found the directory empty and unlocked, and removed it, a moment after it was made.
      if (code === 'ENOENT') {
        mkdirSync(dir, { recursive: true });
        continue;
      }
      if (code !== 'EEXIST') {
        throw new StartError(`cannot lock ${dir} for ${what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
      const seen = textOf(path);
      if (seen === undefined) continue;
      const holder = holderIn(seen);
      if (holder !== undefined && holds(holder, path, me)) return { holder };
      removeIfStill(path, seen);
      continue;
    }
    const heartbeat = setInterval(() => {
      const now = new Date();
      try {
        utimesSync(path, now, now);
      } catch {
        // Removed from under us; release() finds nothing to remove either.
      }
    }, HEARTBEAT_MS);
    heartbeat.unref();
    let held = true;
    return {
      dir,
      release: () => {
        if (!held) return;
        held = false;
        clearInterval(heartbeat);
        if (textOf(path) === text) rmSync(path, { force: true });
      },
    };
  }
  throw new StartError(`cannot lock ${dir} for ${what}: another process took it at the same moment`);
}

let tempCount = 0;

/** A name beside the lock that no other process uses: containers sharing a volume may each be pid 1. */
const besideLock = (path: string, suffix: string): string => `${path}.${hostname()}-${process.pid}-${++tempCount}.${suffix}`;

/**
 * Creates the lock file with its whole text at once: the text goes to a file of this process's
 * own, which is then linked under the lock's name. A link fails when the name exists, as an
 * exclusive create does, and no other process ever reads a lock that is empty or half written.
 */
function createLockFile(path: string, text: string): void {
  const temp = besideLock(path, 'new');
  writeFileSync(temp, text);
  try {
    linkSync(temp, path);
  } finally {
    rmSync(temp, { force: true });
  }
}

/**
 * Removes a lock left over, unless another process replaced it since it was read as `seen`
 * (it found the same lock left over a moment before, and took it). The lock is moved aside
 * first, which only one process can do, and put back if it is not the one that was judged.
 * Exported for its test.
 */
export function removeIfStill(path: string, seen: string): void {
  const aside = besideLock(path, 'old');
  try {
    renameSync(path, aside);
  } catch {
    // Gone already: another process removed it, and the next attempt sees who holds it now.
    return;
  }
  try {
    if (textOf(aside) === seen) return;
    try {
      linkSync(aside, path);
    } catch {
      // A third process locked it in that moment: it holds the lock now.
    }
  } finally {
    rmSync(aside, { force: true });
  }
}

function textOf(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function holderIn(text: string): Holder | undefined {
  try {
    const parsed = JSON.parse(text) as Partial<Holder>;
    if (typeof parsed.host === 'string' && Number.isSafeInteger(parsed.pid) && Number.isSafeInteger(parsed.started)) {
      return { host: parsed.host, pid: parsed.pid!, started: parsed.started! };
    }
  } catch {
    // Not ours (a lock of an older release, or another program's): left over.
  }
  return undefined;
}

function holds(holder: Holder, path: string, me: Holder): boolean {
  let touchedAgoMs: number;
  try {
    touchedAgoMs = Date.now() - statSync(path).mtimeMs;
  } catch {
    return false;
  }
  if (holder.host !== me.host) return touchedAgoMs < STALE_MS;
  if (holder.pid === me.pid) return holder.started === me.started;
  return isRunning(holder.pid) && touchedAgoMs < STALE_MS;
}

/**
 * Whether `pid` is a live Node.js process on this host. After a crash and a reboot the pid may
 * name another program; where /proc tells the command, anything that is not node counts as gone.
 */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it runs, as another user.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('node');
  } catch {
    return true;
  }
}

/** The lock of `dir` when no live process holds it (a lock left over is taken over); undefined when one does. */
export function lockIfFree(dir: string, what: string): DirectoryLock | undefined {
  const taken = tryLock(dir, what);
  return 'holder' in taken ? undefined : taken;
}
