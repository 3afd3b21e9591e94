import { loadConfig, type Config } from '../../src/config/index.ts';
import { StackPrerequisiteError } from '../../src/errors.ts';
import { checkPrerequisites, stackConnectUrl, stackUp, type ServiceName, type StackOptions } from '../../src/stack/index.ts';

export interface StackEndpoints {
  /** `host:port` of the Kafka broker. */
  readonly kafkaBrokers: string;
  /** `host:port` of Cassandra's CQL port. */
  readonly cassandraContactPoint: string;
  /** `sc://host:port` of the Spark Connect server (answers only when 'spark' was among the names). */
  readonly sparkConnectUrl: string;
}

/** Set by `.ci/run`: a missing Java or Maven fails the suite instead of skipping it. */
const REQUIRED = process.env['TICKSTREAM_STACK_REQUIRED'] === '1';

/**
 * The configuration the integration suite runs with: built-in defaults, the config file and
 * TICKSTREAM_* variables, like the CLI.
 */
export function integrationConfig(): Config {
  return loadConfig({ env: process.env });
}

export function integrationStackOptions(): StackOptions {
  return { config: integrationConfig(), env: process.env, progress: (line) => process.stderr.write(`stack: ${line}\n`) };
}

const started = new Map<ServiceName, Promise<void>>();

/**
 * Starts the named services unless they already run (a running stack is reused, and each
 * service is started at most once per test process), and returns where they listen.
 * Returns undefined when Java or Maven is missing, so the caller can skip, unless
 * TICKSTREAM_STACK_REQUIRED=1, in which case that is an error.
 */
export async function ensureStack(names: readonly ServiceName[]): Promise<StackEndpoints | undefined> {
  const options = integrationStackOptions();
  try {
    await checkPrerequisites(options.env);
  } catch (error) {
    if (error instanceof StackPrerequisiteError && !REQUIRED) {
      process.stderr.write(`stack: skipping, ${error.message}\n`);
      return undefined;
    }
    throw error;
  }
  for (const name of names) {
    let once = started.get(name);
    if (!once) {
      once = stackUp(name, options).then(() => undefined);
      // A failed start is not cached: the next caller sees the error again instead of a stale success.
      once.catch(() => started.delete(name));
      started.set(name, once);
    }
    await once;
  }
  const { config } = options;
  return {
    kafkaBrokers: config.kafka.brokers[0] ?? '127.0.0.1:9092',
    cassandraContactPoint: config.cassandra.contactPoints[0] ?? '127.0.0.1:9042',
    sparkConnectUrl: stackConnectUrl(config),
  };
}
