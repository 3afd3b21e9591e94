import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StartError } from '../../errors.ts';

const LOCK_FILE = 'lock';

/** A directory held by this process until release(). */
export interface DirectoryLock {
  readonly path: string;
  release(): void;
}

/**
 * Takes `dir` for this process: creates `<dir>/lock` holding the pid, and fails with one line
 * if a live process holds it already (this one included). `what` names the user of the
 * directory in that line. A lock left by a process that has died is taken over.
 */
export function lockDirectory(dir: string, what: string): DirectoryLock {
  const path = join(dir, LOCK_FILE);
  // A second attempt follows only a stale lock removed; losing that race to another process is an error.
  for (let attempt = 1; attempt <= 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new StartError(`cannot lock ${dir} for ${what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
      const holder = holderOf(path);
      if (holder !== undefined && isRunning(holder)) {
        const who = holder === process.pid ? 'this process' : `process ${holder}`;
        throw new StartError(`${dir} is in use by ${what} of ${who}: give each one its own --data-dir (or delete ${path} if no tickstream runs there)`);
      }
      rmSync(path, { force: true });
      continue;
    }
    try {
      writeSync(fd, `${process.pid}\n`);
    } finally {
      closeSync(fd);
    }
    let held = true;
    return {
      path,
      release: () => {
        if (!held) return;
        held = false;
        if (holderOf(path) === process.pid) rmSync(path, { force: true });
      },
    };
  }
  throw new StartError(`cannot lock ${dir} for ${what}: another process took it at the same moment`);
}

function holderOf(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` is a live Node.js process. After a crash and a reboot the pid may name another
 * program; where /proc tells the command, anything that is not node counts as gone.
 */
export function isRunning(pid: number): boolean {
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
