import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { flagOf, shownConfig, type Config } from '../config/index.ts';
import { pause } from '../domain/index.ts';
import { counted } from '../observability/index.ts';
import { StackStartError } from '../errors.ts';
import { ensureComponent, stackCacheRoot, type FetchedComponent } from './fetch.ts';
import { endpointText, portOpen, waitFor, type Endpoint } from './health.ts';
import { checkPrerequisites, type CommandRunner, type Env, type Prerequisites } from './prerequisites.ts';
import { describeHeldPort, findPortCollisions, portCollisionError } from './port-collisions.ts';
import { clearRunRecord, livePid, readRange, readRunRecord, servicePaths, spawnDetached, stopProcess, tailLines, writeRunRecord, type RunRecord, type ServicePaths, type StopOutcome } from './process.ts';
import { resolveTargets, SERVICES, type ServiceTarget } from './registry.ts';
import { SERVICE_NAMES, type ServiceDefinition, type ServiceName, type StackProcess } from './service.ts';
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
  /** The process's name: the service's own for a one-process service, e.g. `spark-worker-1` otherwise. */
  readonly process: string;
  readonly state: 'started' | 'already-running';
  readonly pid: number;
  readonly version: string;
  readonly endpoint: string;
  readonly elapsedMs: number;
}

const dataDirOf = (config: Config): string => resolve(config.dataDir);

const pathsOf = (config: Config, service: ServiceDefinition, proc: StackProcess): ServicePaths =>
  servicePaths(dataDirOf(config), proc.name, service.name);

/**
 * Starts the named services (or all) and returns once each of their processes is healthy.
 * Idempotent: a process that already runs and answers is left alone. Throws
 * ConfigError when two processes would share a port, StackPrerequisiteError when Java or Maven
 * is missing, and StackStartError when a port is held by another program or a process does not
 * become healthy (with its last log lines).
 */
export async function stackUp(target: ServiceTarget, options: StackOptions): Promise<UpResult[]> {
  const services = resolveTargets(target);
  const collisions = findPortCollisions(resolveTargets('all'), options.config);
  if (collisions.length > 0) throw portCollisionError(collisions, options.config);
  await refuseHeldPorts(services, options.config);
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
  for (const service of services) {
    let component: Promise<FetchedComponent> | undefined;
    const needComponent = (): Promise<FetchedComponent> => {
      component ??= needPrerequisites().then((prereq) =>
        ensureComponent(service.release, { cacheRoot: options.cacheRoot ?? stackCacheRoot(options.env, homedir()), mvn: prereq.mvn, env: options.env, progress }),
      );
      return component;
    };
    for (const proc of service.processes) {
      results.push(await upOne(service, proc, options, progress, needPrerequisites, needComponent));
    }
  }
  return results;
}

/**
 * Every port of a process to start that another program holds, refused before anything starts:
 * found at its turn, it would stop `up` after the services before it had started.
 */
async function refuseHeldPorts(services: readonly ServiceDefinition[], config: Config): Promise<void> {
  for (const service of services) {
    for (const proc of service.processes) {
      if (livePid(readRunRecord(pathsOf(config, service, proc))) !== undefined) continue;
      for (const endpoint of fixedEndpoints(proc, config)) {
        if (await portOpen(endpoint, 500)) throw new StackStartError(describeHeldPort(proc.name, endpoint, config));
      }
    }
  }
}

async function upOne(
  service: ServiceDefinition,
  proc: StackProcess,
  options: StackOptions,
  progress: (line: string) => void,
  needPrerequisites: () => Promise<Prerequisites>,
  needComponent: () => Promise<FetchedComponent>,
): Promise<UpResult> {
  const started = Date.now();
  const { config } = options;
  const paths = pathsOf(config, service, proc);
  const [client] = proc.endpoints(config);
  if (client === undefined) throw new StackStartError(`${proc.name}: no endpoint configured`);
  const record = readRunRecord(paths);
  const running = livePid(record);
  const label = `${proc.name} ${service.release.version}`;
  const base = { service: service.name, process: proc.name, endpoint: endpointText(client) };

  if (running !== undefined) {
    const moved = portsMoved(record, proc, config);
    if (moved !== undefined) {
      throw new StackStartError(
        `${proc.name} is already running (pid ${running}) on ${moved.was}, but the config says ${moved.now}: use ${moved.pass}, or \`tickstream stack down ${service.name}\` and up again`,
      );
    }
    const version = record?.version ?? service.release.version;
    let health: string;
    try {
      health = await waitHealthy(proc, config, paths.logFile, running, progress);
    } catch (error) {
      clearRunRecord(paths); // waitHealthy stopped it, or it had died
      throw error;
    }
    await proc.afterHealthy?.(config, progress);
    progress(`${proc.name} ${version} already running on ${endpointText(client)} (pid ${running}) and healthy: ${health}`);
    return { ...base, state: 'already-running', pid: running, version, elapsedMs: Date.now() - started };
  }
  if (record) clearRunRecord(paths);

  // Checked again: free before the first service started, it may have been taken since.
  for (const endpoint of fixedEndpoints(proc, config)) {
    if (await portOpen(endpoint, 500)) throw new StackStartError(describeHeldPort(proc.name, endpoint, config));
  }

  const prereq = await needPrerequisites();
  const component = await needComponent();
  const launch = await proc.prepare({ config, paths, java: prereq.java, libDir: component.libDir, env: options.env, progress });

  progress(`${label}: starting on ${endpointText(client)} (log: ${paths.logFile})`);
  const pid = spawnDetached({ command: prereq.java, args: launch.args, cwd: paths.dir, logFile: paths.logFile, env: { ...options.env, ...launch.env } });
  const ports = fixedEndpoints(proc, config).map((e) => e.port);
  writeRunRecord(paths, { pid, version: service.release.version, mainClass: proc.mainClass, startedAt: new Date().toISOString(), ports });
  let health: string;
  try {
    health = await waitHealthy(proc, config, paths.logFile, pid, progress);
  } catch (error) {
    clearRunRecord(paths);
    throw error;
  }
  await proc.afterHealthy?.(config, progress);
  const elapsedMs = Date.now() - started;
  progress(`${label} healthy on ${endpointText(client)} (pid ${pid}) in ${(elapsedMs / 1000).toFixed(1)}s: ${health}`);
  return { ...base, state: 'started', pid, version: service.release.version, elapsedMs };
}

/** The endpoints a process is known by: all but those it moves past by itself when they are taken (a Spark UI). */
const fixedEndpoints = (proc: StackProcess, config: Config): readonly Endpoint[] => proc.endpoints(config).filter((e) => e.boundPort === undefined);

/**
 * The ports a running process was started on and the ones the config now gives it, when they
 * differ: its probe would then knock on the wrong door. Undefined when they agree or the
 * record predates kept ports.
 */
function portsMoved(record: RunRecord | undefined, proc: StackProcess, config: Config): { was: string; now: string; pass: string } | undefined {
  const endpoints = fixedEndpoints(proc, config);
  const now = endpoints.map((e) => e.port);
  const was = record?.ports ?? [];
  if (was.length === 0 || (was.length === now.length && was.every((p, i) => p === now[i]))) return undefined;
  const text = (ports: readonly number[]): string => `port${ports.length > 1 ? 's' : ''} ${ports.join(', ')}`;
  // The flags that give the ports it runs on: one per key whose own port (not one derived from it) moved.
  const shown = shownConfig(config);
  const flags = endpoints.flatMap((e, i) => {
    const port = was[i];
    return e.key === undefined || e.rule !== undefined || port === undefined || port === e.port ? [] : [`${flagOf(e.key)} ${valueWithPort(shown[e.key] ?? '', port)}`];
  });
  return { was: text(was), now: text(now), pass: flags.length === 0 ? 'the ports it was started with' : `the ports it was started with (${flags.join(' ')})` };
}

/** A setting's value with its port replaced: `7077` → `17077`, `127.0.0.1:9092` → `127.0.0.1:19092`, `sc://h:15002/;x=y` → `sc://h:16002/;x=y`. */
export function valueWithPort(value: string, port: number): string {
  if (/^\d*$/.test(value)) return String(port);
  // The stack takes the port of a list's first entry.
  const first = value.split(',')[0] ?? '';
  const hostEnd = /^([a-z][a-z0-9+.-]*:\/\/)?(\[[^\]]*\]|[^/:;?#]*)(:\d+)?/i.exec(first);
  const head = `${hostEnd?.[1] ?? ''}${hostEnd?.[2] ?? ''}`;
  const rest = first.slice(hostEnd?.[0].length ?? 0);
  // A masked secret would be pasted as ***: the rest, which the stack does not read, is left out.
  return `${head}:${port}${rest.includes('***') ? '' : rest}`;
}

/** Polls the health probe; a process that dies or never answers becomes a StackStartError showing its log. */
async function waitHealthy(proc: StackProcess, config: Config, logFile: string, pid: number, progress: (line: string) => void): Promise<string> {
  const result = await waitFor(() => proc.probe(config), {
    timeoutMs: proc.startTimeoutMs,
    intervalMs: 500,
    giveUp: () => (livePid({ pid, mainClass: proc.mainClass }) === undefined ? 'the process exited' : undefined),
  });
  if (result.ok) return result.value;
  const alive = livePid({ pid, mainClass: proc.mainClass }) !== undefined;
  if (alive) {
    progress(`${proc.name}: ${result.reason}; stopping pid ${pid}`);
    await stopProcess(pid, { graceMs: 10_000 });
  }
  throw new StackStartError(crashMessage(proc.name, result.reason, logFile, tailLines(logFile, CRASH_LOG_LINES)), { canRetry: true });
}

/** The message of a failed start: what happened, the last log lines, and where the whole log is. */
export function crashMessage(name: string, reason: string, logFile: string, lastLines: readonly string[]): string {
  const shown = lastLines.length > 0 ? `\n--- last ${counted(lastLines.length, 'line')} of ${logFile} ---\n${lastLines.join('\n')}\n---` : ` (${logFile} is empty)`;
  return `${name} did not start: ${reason}.${shown}\nfull log: ${logFile}`;
}

export interface DownResult {
  readonly service: ServiceName;
  readonly process: string;
  readonly outcome: StopOutcome;
  readonly pid: number | undefined;
}

/** Stops the named services (or all), every process in reverse start order: SIGTERM, then SIGKILL after its grace period. */
export async function stackDown(target: ServiceTarget, options: StackOptions): Promise<DownResult[]> {
  const progress = options.progress ?? (() => undefined);
  const results: DownResult[] = [];
  for (const service of [...resolveTargets(target)].reverse()) {
    for (const proc of [...service.processes].reverse()) {
      const paths = pathsOf(options.config, service, proc);
      const record = readRunRecord(paths);
      const pid = livePid(record);
      const base = { service: service.name, process: proc.name };
      if (pid === undefined) {
        if (record) clearRunRecord(paths);
        progress(`${proc.name}: not running`);
        results.push({ ...base, outcome: 'not-running', pid: undefined });
        continue;
      }
      progress(`${proc.name}: stopping pid ${pid}`);
      const outcome = await stopProcess(pid, { graceMs: proc.stopGraceMs });
      clearRunRecord(paths);
      progress(outcome === 'killed' ? `${proc.name}: did not stop within ${proc.stopGraceMs / 1000}s; killed` : `${proc.name}: stopped`);
      results.push({ ...base, outcome, pid });
    }
  }
  return results;
}

/** One row per process: its ports, pid, health (probed now) and version. */
export async function stackStatus(options: StackOptions): Promise<StatusRow[]> {
  const all = SERVICE_NAMES.flatMap((name) => SERVICES[name].processes.map((proc) => ({ service: SERVICES[name], proc })));
  return Promise.all(
    all.map(async ({ service, proc }): Promise<StatusRow> => {
      const paths = pathsOf(options.config, service, proc);
      const record = readRunRecord(paths);
      const pid = livePid(record);
      const ports = proc.endpoints(options.config).map((e) => e.port);
      if (pid === undefined) {
        const detail = record ? `stale pid file (pid ${record.pid} is gone)` : 'not running';
        return { service: proc.name, ports, pid: undefined, health: 'stopped', version: service.release.version, detail };
      }
      const moved = portsMoved(record, proc, options.config);
      if (moved !== undefined) {
        // Probing the configured ports would call a healthy process dead.
        const detail = `started on ${moved.was}, but the config says ${moved.now}: pass ${moved.pass}`;
        return { service: proc.name, ports: record?.ports ?? ports, pid, health: 'unhealthy', version: record?.version ?? service.release.version, detail };
      }
      const probe = await proc.probe(options.config);
      return {
        service: proc.name,
        // A port the process moved past because it was taken (a Spark UI) is shown where it is.
        ports: proc.endpoints(options.config).map((e) => e.boundPort?.() ?? e.port),
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

/**
 * Prints the last lines of a service's log (of each of its processes' logs, each under a
 * `==> file <==` header, when it has several), then (with follow) what is appended until the
 * signal aborts; a followed log that does not exist yet is waited for and printed from its start
 * once it appears. `name` may also be one process, e.g. `spark-connect`.
 */
export async function stackLogs(name: ServiceName | string, options: StackOptions, logs: LogsOptions): Promise<void> {
  const files = logFilesOf(name, options.config);
  const headed = files.length > 1;
  let current: string | undefined;
  const write = (file: string, text: string): void => {
    if (headed && current !== file) logs.write(`${current === undefined ? '' : '\n'}==> ${file} <==\n`);
    current = file;
    logs.write(text);
  };
  for (const logFile of files) {
    if (sizeOf(logFile) === 0) {
      // Followed, a log that is not there yet is waited for (as tail -F does), and said so once.
      write(logFile, logs.follow ? `(no log yet at ${logFile}; waiting for it)\n` : `(no log yet at ${logFile})\n`);
      continue;
    }
    const last = tailLines(logFile, logs.lines);
    if (last.length > 0) write(logFile, `${last.join('\n')}\n`);
  }
  if (!logs.follow) return;
  const offsets = new Map(files.map((f) => [f, sizeOf(f)]));
  const pollMs = logs.pollMs ?? 250;
  while (!logs.signal?.aborted) {
    await pause(pollMs, logs.signal);
    for (const logFile of files) {
      let offset = offsets.get(logFile) ?? 0;
      const size = sizeOf(logFile);
      if (size < offset) offset = 0; // a restart rotated the log
      if (size > offset) {
        write(logFile, readRange(logFile, offset, size));
        offset = size;
      }
      offsets.set(logFile, offset);
    }
  }
}

/** The log files of a service's processes, or of the one process so named. */
function logFilesOf(name: string, config: Config): string[] {
  for (const serviceName of SERVICE_NAMES) {
    const service = SERVICES[serviceName];
    const processes = serviceName === name ? service.processes : service.processes.filter((p) => p.name === name);
    if (processes.length > 0) return processes.map((p) => pathsOf(config, service, p).logFile);
  }
  const known = SERVICE_NAMES.flatMap((n) => [n, ...SERVICES[n].processes.map((p) => p.name).filter((p) => p !== n)]);
  throw new StackStartError(`unknown stack service "${name}": expected one of ${known.join(', ')}`);
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
