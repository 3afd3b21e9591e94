import type { Config } from '../config/index.ts';
import type { Endpoint } from './health.ts';
import type { Env } from './prerequisites.ts';
import type { ServicePaths } from './process.ts';
import type { ComponentRelease } from './versions.ts';

export const SERVICE_NAMES = ['kafka', 'cassandra', 'spark'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/**
 * The processes of each service by name, as their definitions (services/) give them: `stack
 * logs` lists them in its --help without loading those, and with them Kafka's client.
 */
export const PROCESS_NAMES: Readonly<Record<ServiceName, readonly string[]>> = {
  kafka: ['kafka'],
  cassandra: ['cassandra'],
  spark: ['spark-master', 'spark-worker-1', 'spark-worker-2', 'spark-connect'],
};

/** What a process needs to write its config and build its command line. */
export interface ServiceContext {
  readonly config: Config;
  readonly paths: ServicePaths;
  readonly java: string;
  /** The cache directory holding every jar of the service's classpath. */
  readonly libDir: string;
  readonly env: Env;
  readonly progress: (line: string) => void;
}

/** How to start one JVM: everything after `java`, and variables added to the environment. */
export interface ProcessLaunch {
  readonly args: readonly string[];
  readonly env?: Env;
}

/**
 * One JVM of the local stack: Kafka and Cassandra are one each; Spark is a master, two
 * workers and a Connect server. The launcher does the rest: fetch, spawn, wait, stop.
 */
export interface StackProcess {
  /** Its row in `stack status` and the name of its pid and log files, e.g. `kafka`, `spark-worker-1`. */
  readonly name: string;
  /** The JVM main class; also how a pid is recognised as ours. */
  readonly mainClass: string;
  readonly startTimeoutMs: number;
  /** How long `down` waits after SIGTERM before SIGKILL. */
  readonly stopGraceMs: number;
  /** The endpoints it binds; the one clients use first. */
  endpoints(config: Config): readonly Endpoint[];
  /** Writes the config under `paths.dir` (and formats storage on the first run); returns how to start it. */
  prepare(context: ServiceContext): Promise<ProcessLaunch>;
  /** A short description of a healthy process (e.g. its release), or undefined while it does not answer. */
  probe(config: Config): Promise<string | undefined>;
  /** Runs once the process is healthy, on every `up` (so it must be idempotent): e.g. creating topics. */
  afterHealthy?(config: Config, progress: (line: string) => void): Promise<void>;
}

/** A service of the stack: one release from Maven, run as one or more processes. */
export interface ServiceDefinition {
  readonly name: ServiceName;
  readonly release: ComponentRelease;
  /** Started in this order, each healthy before the next starts; stopped in reverse. */
  readonly processes: readonly StackProcess[];
}

/** Every endpoint of every process of the service, in start order. */
export function serviceEndpoints(service: ServiceDefinition, config: Config): readonly Endpoint[] {
  return service.processes.flatMap((p) => p.endpoints(config));
}

/** `127.0.0.1:9092` → 9092. The stack binds 127.0.0.1 (all but Spark Connect, which cannot be told); only the port is taken from config. */
export function portOf(hostPort: string | undefined, fallback: number): number {
  const m = hostPort === undefined ? null : /:(\d{1,5})$/.exec(hostPort);
  const port = m?.[1] === undefined ? fallback : Number(m[1]);
  return port > 0 && port <= 65535 ? port : fallback;
}

export const LOOPBACK = '127.0.0.1';
