import { Admin } from '@platformatic/kafka';
import cassandra from 'cassandra-driver';
import { connect } from 'node:net';
import type { ConfigKey } from '../config/index.ts';

export interface Endpoint {
  readonly host: string;
  readonly port: number;
  /** The config key whose value chooses this port, for the line that says it is taken. */
  readonly key?: ConfigKey;
  /** What listens there, for that line: `broker port`, `controller port`, `web UI`. */
  readonly role?: string;
  /** How the port follows from the key's value when it is not the port that value names: `the port of kafka.brokers + 1`. */
  readonly rule?: string;
  /**
   * Only for a port the process moves past by itself when another program holds it (a Spark UI):
   * `up` does not refuse it, the run record does not keep it, and this gives the port it bound
   * once that is known.
   */
  readonly boundPort?: () => number | undefined;
}

export const endpointText = (e: Endpoint): string => `${e.host}:${e.port}`;

/** True when something accepts TCP connections on the endpoint. */
export function portOpen(endpoint: Endpoint, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: endpoint.host, port: endpoint.port });
    const done = (open: boolean): void => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** What a healthy broker said to a metadata request. */
export interface KafkaHealth {
  readonly clusterId: string;
  readonly brokers: number;
  readonly controllerId: number;
}

/** Sends a metadata request; undefined when the broker does not answer within the timeout. */
export async function probeKafka(endpoint: Endpoint, timeoutMs = 2_000): Promise<KafkaHealth | undefined> {
  const admin = new Admin({ clientId: 'tickstream-stack-health', bootstrapBrokers: [endpointText(endpoint)], retries: 0, timeout: timeoutMs });
  try {
    const md = await admin.metadata({ topics: [] });
    return md.brokers.size > 0 ? { clusterId: md.id, brokers: md.brokers.size, controllerId: md.controllerId } : undefined;
  } catch {
    return undefined;
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/** Asks CQL for `release_version`; undefined until the native transport answers queries. */
export async function probeCassandra(endpoint: Endpoint, localDataCenter: string, timeoutMs = 3_000): Promise<string | undefined> {
  const client = new cassandra.Client({
    contactPoints: [endpointText(endpoint)],
    localDataCenter,
    socketOptions: { connectTimeout: timeoutMs, readTimeout: timeoutMs },
    policies: { reconnection: new cassandra.policies.reconnection.ConstantReconnectionPolicy(60_000) },
  });
  try {
    await client.connect();
    const rs = await client.execute('SELECT release_version FROM system.local');
    const version: unknown = rs.first()?.get('release_version');
    return typeof version === 'string' ? version : undefined;
  } catch {
    return undefined;
  } finally {
    await client.shutdown().catch(() => undefined);
  }
}

export interface WaitOptions {
  readonly timeoutMs: number;
  readonly intervalMs: number;
  /** Checked before each probe: a reason to give up now (the process died), or undefined. */
  readonly giveUp?: () => string | undefined;
  readonly now?: () => number;
}

export type WaitResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/** Polls a probe until it returns a value, the deadline passes, or `giveUp` says why not. */
export async function waitFor<T>(probe: () => Promise<T | undefined>, options: WaitOptions): Promise<WaitResult<T>> {
  const now = options.now ?? Date.now;
  const deadline = now() + options.timeoutMs;
  for (;;) {
    const reason = options.giveUp?.();
    if (reason !== undefined) return { ok: false, reason };
    const value = await probe();
    if (value !== undefined) return { ok: true, value };
    if (now() >= deadline) return { ok: false, reason: `not healthy after ${Math.round(options.timeoutMs / 1000)}s` };
    await new Promise((r) => setTimeout(r, options.intervalMs));
  }
}
