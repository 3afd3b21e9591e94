import { statSync, openSync, readSync, closeSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import type { Config } from '../config/index.ts';
import { StackStartError } from '../errors.ts';
import { ensureComponent, stackCacheRoot } from './fetch.ts';
import { endpointText, portOpen, waitFor } from './health.ts';
import { checkPrerequisites, type CommandRunner, type Env, type Prerequisites } from './prerequisites.ts';
import { clearRunRecord, livePid, readRunRecord, servicePaths, spawnDetached, stopProcess, tailLines, writeRunRecord, type StopOutcome } from './process.ts';
import { resolveTargets, SERVICES, type ServiceTarget } from './registry.ts';
import { SERVICE_NAMES, type ServiceDefinition, type ServiceName } from './service.ts';
import type { StatusRow } from './status-table.ts';

/** How many log lines a failed start shows. */
export const CRASH_LOG_LINES = 30;

export interface StackOptions {
  readonly config: Config;
  /** The environment: JAVA_HOME, XDG_CACHE_HOME and PATH are read from it. */
  readonly env: Env;
  /** Progress lines for a person (stderr in the CLI). */
  readonly progress?: (line: string) => void;
  /** Defaults to `$XDG_CACHE_HOME/tickstream` or `~/.cache/tickstream`. */
  readonly cacheRoot?: string;
  /** For tests of the prerequisite path. */
  readonly runCommand?: CommandRunner;
}

export interface UpResult {
  readonly service: ServiceName;
  readonly state: 'started' | 'already-running';
  readonly pid: number;
  readonly version: string;
  readonly endpoint: string;
  readonly elapsedMs: number;
}

const dataDirOf = (config: Config): string => resolve(config.dataDir);

/**
 * Starts the named services (or all) and returns once each is healthy. Idempotent: a service
 * that already runs and answers is left alone. Throws StackPrerequisiteError when Java or Maven
 * is missing and StackStartError when a service does not become healthy (with its last log lines).
 */
export async function stackUp(target: ServiceTarget, options: StackOptions): Promise<UpResult[]> {
  const progress = options.progress ?? (() => undefined);
  let prerequisites: Prerequisites | undefined;
  const needPrerequisites = async (): Promise<Prerequisites> => {
    if (!prerequisites) {
      prerequisites = await checkPrerequisites(options.env, options.runCommand);
      for (const w of prerequisites.warnings) progress(`warning: ${w}`);
    }
    return prerequisites;
  };
  const results: UpResult[] = [];
  for (const service of resolveTargets(target)) {
    results.push(await upOne(service, options, progress, needPrerequisites));
  }
  return results;
}

async function upOne(
  service: ServiceDefinition,
  options: StackOptions,
  progress: (line: string) => void,
  needPrerequisites: () => Promise<Prerequisites>,
): Promise<UpResult> {
  const started = Date.now();
  const { config } = options;
  const paths = servicePaths(dataDirOf(config), service.name);
  const [client] = service.endpoints(config);
  if (client === undefined) throw new StackStartError(`${service.name}: no endpoint configured`);
  const record = readRunRecord(paths);
  const running = livePid(record);
  const label = `${service.name} ${service.release.version}`;

  if (running !== undefined) {
    const version = record?.version ?? service.release.version;
    let health: string;
    try {
      health = await waitHealthy(service, config, paths.logFile, running, progress);
    } catch (error) {
      clearRunRecord(paths); // waitHealthy stopped it, or it had died
      throw error;
    }
    await service.afterHealthy?.(config, progress);
    progress(`${service.name} ${version} already running on ${endpointText(client)} (pid ${running}) and healthy: ${health}`);
    return { service: service.name, state: 'already-running', pid: running, version, endpoint: endpointText(client), elapsedMs: Date.now() - started };
  }
  if (record) clearRunRecord(paths);

  for (const endpoint of service.endpoints(config)) {
    if (await portOpen(endpoint, 500)) {
      throw new StackStartError(
        `${service.name}: ${endpointText(endpoint)} is already in use by a process tickstream did not start; stop it, or change the port in config`,
      );
    }
  }

  const prereq = await needPrerequisites();
  const cacheRoot = options.cacheRoot ?? stackCacheRoot(options.env, homedir());
  const component = await ensureComponent(service.release, { cacheRoot, mvn: prereq.mvn, env: options.env, progress });
  const args = await service.prepare({ config, paths, java: prereq.java, libDir: component.libDir, env: options.env, progress });

  progress(`${label}: starting on ${endpointText(client)} (log: ${paths.logFile})`);
  const pid = spawnDetached({ command: prereq.java, args, cwd: paths.dir, logFile: paths.logFile, env: options.env });
  writeRunRecord(paths, { pid, version: service.release.version, mainClass: service.mainClass, startedAt: new Date().toISOString() });
  let health: string;
  try {
    health = await waitHealthy(service, config, paths.logFile, pid, progress);
  } catch (error) {
    clearRunRecord(paths);
    throw error;
  }
  await service.afterHealthy?.(config, progress);
  const elapsedMs = Date.now() - started;
  progress(`${label} healthy on ${endpointText(client)} (pid ${pid}) in ${(elapsedMs / 1000).toFixed(1)}s: ${health}`);
  return { service: service.name, state: 'started', pid, version: service.release.version, endpoint: endpointText(client), elapsedMs };
}

/** Polls the health probe; a process that dies or never answers becomes a StackStartError showing its log. */
async function waitHealthy(service: ServiceDefinition, config: Config, logFile: string, pid: number, progress: (line: string) => void): Promise<string> {
  const result = await waitFor(() => service.probe(config), {
    timeoutMs: service.startTimeoutMs,
    intervalMs: 500,
    giveUp: () => (livePid({ pid, version: '', mainClass: service.mainClass, startedAt: '' }) === undefined ? 'the process exited' : undefined),
  });
  if (result.ok) return result.value;
  const alive = livePid({ pid, version: '', mainClass: service.mainClass, startedAt: '' }) !== undefined;
  if (alive) {
    progress(`${service.name}: ${result.reason}; stopping pid ${pid}`);
    await stopProcess(pid, { graceMs: 10_000 });
  }
  throw new StackStartError(crashMessage(service.name, result.reason, logFile, tailLines(logFile, CRASH_LOG_LINES)), { canRetry: true });
}

/** The message of a failed start: what happened, the last log lines, and where the whole log is. */
export function crashMessage(name: string, reason: string, logFile: string, lastLines: readonly string[]): string {
  const shown = lastLines.length > 0 ? `\n--- last ${lastLines.length} lines of ${logFile} ---\n${lastLines.join('\n')}\n---` : ` (${logFile} is empty)`;
  return `${name} did not start: ${reason}.${shown}\nfull log: ${logFile}`;
}

export interface DownResult {
  readonly service: ServiceName;
  readonly outcome: StopOutcome;
  readonly pid: number | undefined;
}

/** Stops the named services (or all, in reverse start order): SIGTERM, then SIGKILL after the service's grace period. */
export async function stackDown(target: ServiceTarget, options: StackOptions): Promise<DownResult[]> {
  const progress = options.progress ?? (() => undefined);
  const results: DownResult[] = [];
  for (const service of [...resolveTargets(target)].reverse()) {
    const paths = servicePaths(dataDirOf(options.config), service.name);
    const record = readRunRecord(paths);
    const pid = livePid(record);
    if (pid === undefined) {
      if (record) clearRunRecord(paths);
      progress(`${service.name}: not running`);
      results.push({ service: service.name, outcome: 'not-running', pid: undefined });
      continue;
    }
    progress(`${service.name}: stopping pid ${pid}`);
    const outcome = await stopProcess(pid, { graceMs: service.stopGraceMs });
    clearRunRecord(paths);
    progress(outcome === 'killed' ? `${service.name}: did not stop within ${service.stopGraceMs / 1000}s; killed` : `${service.name}: stopped`);
    results.push({ service: service.name, outcome, pid });
  }
  return results;
}

/** One row per service: its ports, pid, health (probed now) and version. */
export async function stackStatus(options: StackOptions): Promise<StatusRow[]> {
  return Promise.all(
    SERVICE_NAMES.map(async (name): Promise<StatusRow> => {
      const service = SERVICES[name];
      const paths = servicePaths(dataDirOf(options.config), name);
      const record = readRunRecord(paths);
      const pid = livePid(record);
      const ports = service.endpoints(options.config).map((e) => e.port);
      if (pid === undefined) {
        const detail = record ? `stale pid file (pid ${record.pid} is gone)` : 'not started';
        return { service: name, ports, pid: undefined, health: 'stopped', version: service.release.version, detail };
      }
      const probe = await service.probe(options.config);
      return {
        service: name,
        ports,
        pid,
        health: probe === undefined ? 'unhealthy' : 'healthy',
        version: record?.version ?? service.release.version,
        detail: probe ?? 'process running but not answering (starting, or see `tickstream stack logs`)',
      };
    }),
  );
}

export interface LogsOptions {
  readonly lines: number;
  readonly follow: boolean;
  readonly write: (text: string) => void;
  /** Ends `follow`. */
  readonly signal?: AbortSignal;
  readonly pollMs?: number;
}

/** Prints the last lines of a service's log, then (with follow) what is appended until the signal aborts. */
export async function stackLogs(name: ServiceName, options: StackOptions, logs: LogsOptions): Promise<void> {
  const { logFile } = servicePaths(dataDirOf(options.config), name);
  const last = tailLines(logFile, logs.lines);
  if (last.length === 0 && !logs.follow) {
    logs.write(`(no log yet at ${logFile})\n`);
    return;
  }
  if (last.length > 0) logs.write(`${last.join('\n')}\n`);
  if (!logs.follow) return;
  let offset = sizeOf(logFile);
  const pollMs = logs.pollMs ?? 250;
  while (!logs.signal?.aborted) {
    await new Promise<void>((r) => {
      const t = setTimeout(r, pollMs);
      logs.signal?.addEventListener('abort', () => (clearTimeout(t), r()), { once: true });
    });
    const size = sizeOf(logFile);
    if (size < offset) offset = 0; // a restart rotated the log
    if (size > offset) {
      logs.write(readRange(logFile, offset, size));
      offset = size;
    }
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function readRange(file: string, from: number, to: number): string {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(to - from);
    const n = readSync(fd, buf, 0, buf.length, from);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
