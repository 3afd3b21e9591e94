import { resolve } from 'node:path';
import { envName, flagOf, shownConfig, type Config, type ConfigKey } from '../config/index.ts';
import { ConfigError } from '../errors.ts';
import { endpointText, type Endpoint } from './health.ts';
import type { ServiceDefinition } from './service.ts';

/** A port that two processes of the stack (or one process, twice) would listen on. */
export interface PortCollision {
  readonly port: number;
  /** The process that has the port first, in start order, with the key that gives it the port. */
  readonly first: string;
  readonly second: string;
  readonly firstKey?: string;
  readonly secondKey?: string;
}

/**
 * The ports the config gives to more than one endpoint of `services`. Pass every service, not
 * only those being started: they share the machine. Hosts are not compared, since every process
 * binds loopback except Spark Connect, which binds every interface.
 */
export function findPortCollisions(services: readonly ServiceDefinition[], config: Config): readonly PortCollision[] {
  const owners = new Map<number, { name: string; key: string | undefined }>();
  const collisions: PortCollision[] = [];
  for (const service of services) {
    for (const proc of service.processes) {
      for (const { port, key } of proc.endpoints(config)) {
        const first = owners.get(port);
        if (first === undefined) owners.set(port, { name: proc.name, key });
        else collisions.push({ port, first: first.name, second: proc.name, ...(first.key === undefined ? {} : { firstKey: first.key }), ...(key === undefined ? {} : { secondKey: key }) });
      }
    }
  }
  return collisions;
}

/** One line: which processes would share which port, and what to do about it. */
export function describePortCollisions(collisions: readonly PortCollision[]): string {
  const keyed = (name: string, key: string | undefined): string => (key === undefined ? name : `${name} (${key})`);
  const each = collisions.map((c) =>
    c.first === c.second
      ? `${keyed(c.first, c.firstKey)} would listen on port ${c.port} twice`
      : `${keyed(c.first, c.firstKey)} and ${keyed(c.second, c.secondKey)} would both listen on port ${c.port}`,
  );
  return `${each.join('; ')}; change one of them (\`tickstream stack status\` lists each process's ports)`;
}

/**
 * Ports that collide are bad config, whatever else runs on the machine: a ConfigError (exit code 2)
 * naming the key of the process that came second, the one most likely moved onto the other.
 */
export function portCollisionError(collisions: readonly PortCollision[], config: Config): ConfigError {
  const key = collisions.map((c) => c.secondKey ?? c.firstKey).find((k) => k !== undefined) as ConfigKey | undefined;
  const value = key === undefined ? collisions[0]?.port : shownConfig(config)[key];
  return new ConfigError(key ?? 'stack ports', value, `a port no other process of the stack listens on: ${describePortCollisions(collisions)}`);
}

/**
 * One line for a port that a program the stack did not start already holds (another data dir's
 * stack among them): which of the process's ports it is, how the config gives it that port (the
 * key's value as set, by a file, the environment or a flag), and every way to choose another.
 */
export function describeHeldPort(processName: string, endpoint: Endpoint, config: Config): string {
  // Another data dir's stack is a program this one did not start, and the likeliest on a shared machine.
  const holder = `a process the stack of ${resolve(config.dataDir)} did not start`;
  const role = endpoint.role === undefined ? '' : `, its ${endpoint.role}`;
  const { key } = endpoint;
  if (key === undefined) return `${processName}: ${endpointText(endpoint)}${role} is already in use by ${holder}; stop that process, or change the port in config`;
  const origin = [endpoint.rule, `${key} is ${shownConfig(config)[key] ?? '?'}`].filter((x) => x !== undefined).join('; ');
  return (
    `${processName}: ${endpointText(endpoint)}${role} (${origin}) is already in use by ${holder}; ` +
    `stop that process, or choose other ports with ${flagOf(key)} (${envName(key)}, or ${key} in the config file)`
  );
}
