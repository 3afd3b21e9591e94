import { ProduceAcks } from '@platformatic/kafka';
import type { KafkaCompressionName } from '../../config/index.ts';

/** How to reach the cluster; the `kafka.*` config keys. */
export interface KafkaConnection {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** How long a request waits for the broker's answer; REQUEST_TIMEOUT_MS when not given. */
  readonly requestTimeoutMs?: number;
}

/** Record batch compressions the producer writes: the values of `kafka.compression` (one list, in the config schema). */
export type KafkaCompression = KafkaCompressionName;

export const ACKS_ALL: number = ProduceAcks.ALL;

/** How long a client waits for a broker's answer to one request, unless it says otherwise. */
export const REQUEST_TIMEOUT_MS = 10_000;

/**
 * Per-request settings: fail a request within seconds, so that the producer spools and the
 * console answers instead of hanging on a broker that accepts connections but does not answer.
 * `timeout` is what the client asks the broker to wait (e.g. for acks); `requestTimeout` is how
 * long the client itself waits for the answer (the client's default is 30 s).
 */
export function clientBase(connection: KafkaConnection, suffix: string, requestTimeoutMs = connection.requestTimeoutMs ?? REQUEST_TIMEOUT_MS) {
  return {
    clientId: `${connection.clientId}-${suffix}`,
    bootstrapBrokers: [...connection.brokers],
    timeout: 5_000,
    requestTimeout: requestTimeoutMs,
    retries: 2,
    retryDelay: 250,
    autocreateTopics: false,
  };
}

/** What the client's errors carry that callers read: a broker's own message, for one. */
export interface KafkaErrorLike {
  readonly message: string;
  readonly serverErrorMessage?: string | null;
}

/**
 * The error in the client's error tree (a MultipleErrors and what it holds, through the
 * client's own `findBy`) whose `property` is `value`, e.g. `apiId` 'TOPIC_ALREADY_EXISTS' or
 * `code` 'PLT_KFK_NETWORK'; undefined when there is none or the error is not the client's.
 */
export function findKafkaError(error: unknown, property: string, value: unknown): KafkaErrorLike | undefined {
  const find = (error as { findBy?: (property: string, value: unknown) => KafkaErrorLike | null } | null)?.findBy;
  return (typeof find === 'function' ? find.call(error, property, value) : null) ?? undefined;
}

/** Whether the client's error tree holds a broker error of this name, e.g. 'TOPIC_ALREADY_EXISTS'. */
export function isKafkaApiError(error: unknown, apiId: string): boolean {
  return findKafkaError(error, 'apiId', apiId) !== undefined;
}

/**
 * One line for an error of the client's tree. The client retries, so an aggregate often holds
 * the same failure once per attempt ("metadata failed 3 times"): each distinct cause is given
 * once. A network error's own cause (e.g. ECONNREFUSED) is added when its message lacks it.
 */
export function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error instanceof AggregateError && error.errors.length > 0) {
    const causes = new Set(error.errors.map((e: unknown) => messageOf(e)));
    return `${error.message} (${[...causes].join('; ')})`;
  }
  const cause = error.cause instanceof Error ? messageOf(error.cause) : '';
  if (cause === '' || error.message.includes(cause)) return error.message;
  return `${error.message.replace(/\.$/, '')}: ${cause}`;
}

/** Closes a client, force-closing its streams; the promise overload of `close(force)` is not reachable from TS. */
export function closeClient(client: { close(force: boolean, callback: (error?: Error | null) => void): void }): Promise<void> {
  return new Promise((resolve, reject) => client.close(true, (error) => (error ? reject(error) : resolve())));
}
