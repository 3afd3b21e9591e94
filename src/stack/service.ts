import type { Config } from '../config/index.ts';
import type { Endpoint } from './health.ts';
import type { Env } from './prerequisites.ts';
import type { ServicePaths } from './process.ts';
import type { ComponentRelease } from './versions.ts';

export const SERVICE_NAMES = ['kafka', 'cassandra'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** What a service needs to write its config and build its command line. */
export interface ServiceContext {
  readonly config: Config;
  readonly paths: ServicePaths;
  readonly java: string;
  /** The cache directory holding every jar of the service's classpath. */
  readonly libDir: string;
  readonly env: Env;
  readonly progress: (line: string) => void;
}

/** One JVM service of the local stack. The launcher does the rest: fetch, spawn, wait, stop. */
export interface ServiceDefinition {
  readonly name: ServiceName;
  readonly release: ComponentRelease;
  /** The JVM main class; also how a pid is recognised as ours. */
  readonly mainClass: string;
  readonly startTimeoutMs: number;
  /** How long `down` waits after SIGTERM before SIGKILL. */
  readonly stopGraceMs: number;
  /** The endpoints it binds; the one clients use first. */
  endpoints(config: Config): readonly Endpoint[];
  /** Writes the config under `paths.dir` (and formats storage on the first run); returns the JVM arguments. */
  prepare(context: ServiceContext): Promise<readonly string[]>;
  /** A short description of a healthy service (e.g. its release), or undefined while it does not answer. */
  probe(config: Config): Promise<string | undefined>;
  /** Runs once the service is healthy, on every `up` (so it must be idempotent): e.g. creating topics. */
  afterHealthy?(config: Config, progress: (line: string) => void): Promise<void>;
}

/** `127.0.0.1:9092` → 9092. The stack always binds 127.0.0.1; only the port is taken from config. */
export function portOf(hostPort: string | undefined, fallback: number): number {
  const m = hostPort === undefined ? null : /:(\d{1,5})$/.exec(hostPort);
  const port = m?.[1] === undefined ? fallback : Number(m[1]);
  return port > 0 && port <= 65535 ? port : fallback;
}

export const LOOPBACK = '127.0.0.1';
