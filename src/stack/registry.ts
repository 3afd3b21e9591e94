import { StackStartError } from '../errors.ts';
import { SERVICE_NAMES, type ServiceDefinition, type ServiceName } from './service.ts';
import { cassandraService } from './services/cassandra.ts';
import { kafkaService } from './services/kafka.ts';
import { sparkService } from './services/spark.ts';

/** Every service, in start order (`down` goes in reverse): Spark's Connect server expects Cassandra. */
export const SERVICES: Readonly<Record<ServiceName, ServiceDefinition>> = {
  kafka: kafkaService,
  cassandra: cassandraService,
  spark: sparkService,
};

export type ServiceTarget = ServiceName | 'all';

export const isServiceName = (s: string): s is ServiceName => (SERVICE_NAMES as readonly string[]).includes(s);

/** `all` → every service in start order; a name → that one; anything else is an error naming what exists. */
export function resolveTargets(target: string): readonly ServiceDefinition[] {
  if (target === 'all') return SERVICE_NAMES.map((n) => SERVICES[n]);
  if (isServiceName(target)) return [SERVICES[target]];
  throw new StackStartError(`unknown stack service "${target}": expected one of ${[...SERVICE_NAMES, 'all'].join(', ')}`);
}
