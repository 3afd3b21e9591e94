import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, fstatSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StackStartError } from '../errors.ts';
import type { Env } from './prerequisites.ts';

/**
 * Where one process keeps its config, data, pid file and log: `<dataDir>/stack/<name>/` for a
 * service that is one process; `<dataDir>/stack/<service>/<part>/` for a process named
 * `<service>-<part>` (e.g. `spark-worker-1` in `stack/spark/worker-1/`).
 */
export interface ServicePaths {
  readonly dir: string;
  readonly pidFile: string;
  /** What the service was started as: pid, version, ports. Read by `stack status`. */
  readonly runFile: string;
  readonly logFile: string;
}

export function servicePaths(dataDir: string, name: string, service: string = name): ServicePaths {
  const part = name.startsWith(`${service}-`) ? name.slice(service.length + 1) : name;
  const dir = name === service ? join(dataDir, 'stack', name) : join(dataDir, 'stack', service, part);
  return { dir, pidFile: join(dir, `${name}.pid`), runFile: join(dir, 'run.json'), logFile: join(dir, `${name}.log`) };
}

export interface RunRecord {
  readonly pid: number;
  readonly version: string;
  /** The JVM main class: a live pid whose command line lacks it is another process that reused the pid. */
  readonly mainClass: string;
  readonly startedAt: string;
  /** The ports it was started on, the client's first; empty in a record written before they were kept. */
  readonly ports: readonly number[];
}

/** Parses a pid file: one positive integer, surrounding whitespace allowed. */
export function parsePid(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^\d{1,10}$/.test(trimmed)) return undefined;
  const pid = Number(trimmed);
  return pid > 1 && pid <= 2 ** 31 - 1 ? pid : undefined;
}

export function writeRunRecord(paths: ServicePaths, record: RunRecord): void {
  mkdirSync(paths.dir, { recursive: true });
  writeFileSync(paths.pidFile, `${record.pid}\n`);
  writeFileSync(paths.runFile, `${JSON.stringify(record, null, 2)}\n`);
}

/** The recorded run, when the pid file is valid; the pid file wins over run.json. */
export function readRunRecord(paths: ServicePaths): RunRecord | undefined {
  let pid: number | undefined;
  try {
    pid = parsePid(readFileSync(paths.pidFile, 'utf8'));
  } catch {
    return undefined;
  }
  if (pid === undefined) return undefined;
  let extra: Partial<RunRecord> = {};
  try {
    extra = JSON.parse(readFileSync(paths.runFile, 'utf8')) as Partial<RunRecord>;
  } catch {
    // run.json is informative only; a pid file alone still lets `down` stop the process.
  }
  return {
    pid,
    version: typeof extra.version === 'string' ? extra.version : '?',
    mainClass: typeof extra.mainClass === 'string' ? extra.mainClass : '',
    startedAt: typeof extra.startedAt === 'string' ? extra.startedAt : '',
    ports: Array.isArray(extra.ports) && extra.ports.every((p) => Number.isInteger(p)) ? extra.ports : [],
  };
}

export function clearRunRecord(paths: ServicePaths): void {
  rmSync(paths.pidFile, { force: true });
  rmSync(paths.runFile, { force: true });
}

/** True while the process exists and is not a zombie waiting to be reaped. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no /proc (macOS): kill(0) is all we can know
  }
}

/** The process's command line, or undefined where /proc is not available. */
function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return undefined;
  }
}

/** The pid of the recorded run if that process is alive and is still the JVM we started. */
export function livePid(record: Pick<RunRecord, 'pid' | 'mainClass'> | undefined): number | undefined {
  if (!record || !isAlive(record.pid)) return undefined;
  const cmd = commandLine(record.pid);
  if (cmd !== undefined && record.mainClass !== '' && !cmd.includes(record.mainClass)) return undefined;
  return record.pid;
}

export interface DetachedSpawn {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly logFile: string;
  readonly env: Env;
}

/**
 * Starts a process that outlives us: its own process group, stdout and stderr appended to
 * the log file (the previous run's log is kept as `.1`), nothing tying it to our event loop.
 */
export function spawnDetached(options: DetachedSpawn): number {
  mkdirSync(options.cwd, { recursive: true });
  if (existsSync(options.logFile)) renameSync(options.logFile, `${options.logFile}.1`);
  const fd = openSync(options.logFile, 'a');
  try {
    const child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: { ...options.env },
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    if (child.pid === undefined) throw new StackStartError(`could not start ${options.command} (see ${options.logFile})`);
    // A failed exec (ENOENT) arrives as an event; the caller sees the dead pid and the log.
    child.on('error', () => undefined);
    child.unref();
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

export interface StopOptions {
  /** How long to wait after SIGTERM before SIGKILL. */
  readonly graceMs: number;
  readonly pollMs?: number;
}

export type StopOutcome = 'stopped' | 'killed' | 'not-running';

/** SIGTERM, wait until gone or the grace period ends, then SIGKILL. */
export async function stopProcess(pid: number, options: StopOptions): Promise<StopOutcome> {
  if (!isAlive(pid)) return 'not-running';
  const pollMs = options.pollMs ?? 100;
  signal(pid, 'SIGTERM');
  if (await waitUntilGone(pid, options.graceMs, pollMs)) return 'stopped';
  signal(pid, 'SIGKILL');
  await waitUntilGone(pid, 10_000, pollMs);
  return 'killed';
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

async function waitUntilGone(pid: number, timeoutMs: number, pollMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  return !isAlive(pid);
}

const TAIL_CHUNK = 64 * 1024;

/** The text of bytes [from, to) of a file (less at its end). */
export function readRange(file: string, from: number, to: number): string {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(to - from);
    const n = readSync(fd, buf, 0, buf.length, from);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** The last `n` lines of a file (reading only its end), or [] when it does not exist. */
export function tailLines(file: string, n: number): string[] {
  if (n <= 0) return [];
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return [];
  }
  try {
    const size = fstatSync(fd).size;
    let start = size;
    let newlines = 0;
    const chunks: Buffer[] = [];
    // Whole buffers are joined before decoding, so a character split across chunks survives.
    while (start > 0 && newlines <= n) {
      const len = Math.min(TAIL_CHUNK, start);
      start -= len;
      const buf = Buffer.alloc(len);
      readSync(fd, buf, 0, len, start);
      chunks.unshift(buf);
      for (const byte of buf) if (byte === 0x0a) newlines += 1;
    }
    const lines = Buffer.concat(chunks).toString('utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    return lines.slice(-n);
  } finally {
    closeSync(fd);
  }
}

/** Runs a short-lived command (e.g. formatting storage) and returns its exit code and output. */
export function runToCompletion(command: string, args: readonly string[], cwd: string, env: Env): Promise<{ readonly code: number | null; readonly output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (output += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (output += s));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** Writes a file only when its content changed, so configs keep their mtime across idempotent runs. */
export function writeIfChanged(path: string, content: string): void {
  try {
    if (readFileSync(path, 'utf8') === content) return;
  } catch {
    // missing: write it
  }
  writeFileSync(path, content);
}
