import { Admin, ConfigResourceTypes, IncrementalAlterConfigOperationTypes } from '@platformatic/kafka';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTopicUnlessExists, pipelineTopics, tradeTopicNames } from '../../bus/index.ts';
import type { Config } from '../../config/index.ts';
import { StackStartError } from '../../errors.ts';
import { counted } from '../../observability/index.ts';
import { endpointText, probeKafka, type Endpoint } from '../health.ts';
import { runToCompletion, writeIfChanged } from '../process.ts';
import { LOOPBACK, portOf, type ProcessLaunch, type ServiceContext, type ServiceDefinition } from '../service.ts';
import { KAFKA_RELEASE } from '../versions.ts';

const MAIN_CLASS = 'kafka.Kafka';
const STORAGE_TOOL = 'kafka.tools.StorageTool';

export interface KafkaSettings {
  readonly brokerPort: number;
  /** The KRaft controller listener; by convention the broker port + 1 (9093). */
  readonly controllerPort: number;
  readonly logDir: string;
  readonly partitions: number;
  readonly retentionMs: number;
}

export function kafkaSettings(config: Config, dir: string): KafkaSettings {
  const brokerPort = portOf(config.kafka.brokers[0], 9092);
  return {
    brokerPort,
    controllerPort: brokerPort + 1,
    logDir: join(dir, 'data'),
    partitions: config.kafka.topicPartitions,
    retentionMs: config.kafka.retention,
  };
}

/**
 * One node that is both broker and KRaft controller (Kafka 4 has no ZooKeeper), on loopback.
 * Replication factors are 1 because there is one node; threads are few because there are two cores.
 */
export function renderServerProperties(s: KafkaSettings): string {
  return `# Written by tickstream stack; edits are overwritten on the next \`stack up\`.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@${LOOPBACK}:${s.controllerPort}
listeners=PLAINTEXT://${LOOPBACK}:${s.brokerPort},CONTROLLER://${LOOPBACK}:${s.controllerPort}
advertised.listeners=PLAINTEXT://${LOOPBACK}:${s.brokerPort}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${s.logDir}
num.partitions=${s.partitions}
log.retention.ms=${s.retentionMs}
log.segment.bytes=67108864
# Topics are created by tickstream (stack up, the roles, the Spark job), never by a client asking for one.
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=${Math.max(s.partitions, 1)}
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
`;
}

/** Log4j 2 in properties form (the YAML form would need jackson-dataformat-yaml); everything goes to stdout, i.e. the log file. */
export function renderKafkaLog4j2(): string {
  return `# Written by tickstream stack.
status = warn
appender.stdout.type = Console
appender.stdout.name = stdout
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = stdout
logger.state.name = state.change.logger
logger.state.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.authorizer.name = kafka.authorizer.logger
logger.authorizer.level = WARN
`;
}

/** A Kafka cluster id: 16 random bytes in unpadded base64url, never starting with '-' (as Kafka's own Uuid does). */
export function newClusterId(random: (n: number) => Buffer = randomBytes): string {
  for (;;) {
    const id = random(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export const KAFKA_JVM_OPTIONS: readonly string[] = [
  '-Xms1g',
  '-Xmx1g',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent',
  '-XX:+ExitOnOutOfMemoryError',
  '-Djava.awt.headless=true',
];

export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  readonly retentionMs: number;
}

/** The topics of DESIGN.md (`kafka.topic` and its side topics), each with the configured partitions and retention. */
export function topicPlan(config: Config): readonly TopicSpec[] {
  return tradeTopicNames(pipelineTopics(config.kafka.topic)).map((name) => ({
    name,
    partitions: config.kafka.topicPartitions,
    retentionMs: config.kafka.retention,
  }));
}

/**
 * Creates the missing topics and keeps `retention.ms` of existing ones in step with config.
 * A partition count that differs is reported, never changed: adding partitions would move symbols.
 */
export async function ensureTopics(endpoint: Endpoint, plan: readonly TopicSpec[], progress: (line: string) => void): Promise<void> {
  const admin = new Admin({ clientId: 'tickstream-stack', bootstrapBrokers: [endpointText(endpoint)], retries: 3, retryDelay: 500, timeout: 10_000 });
  try {
    const existing = new Set(await admin.listTopics());
    const created: string[] = [];
    for (const topic of plan) {
      const retention = { name: 'retention.ms', value: String(topic.retentionMs) };
      if (!existing.has(topic.name)) {
        // A topic that a running pipeline made meanwhile is treated as existing.
        const made = await createTopicUnlessExists(admin, { topics: [topic.name], partitions: topic.partitions, replicas: 1, configs: [retention] });
        if (made !== undefined) {
          created.push(`${topic.name} (${counted(topic.partitions, 'partition')})`);
          continue;
        }
      }
      const md = await admin.metadata({ topics: [topic.name] });
      const have = md.topics.get(topic.name)?.partitionsCount;
      if (have !== undefined && have !== topic.partitions) {
        progress(`kafka: topic ${topic.name} has ${counted(have, 'partition')}, config asks for ${topic.partitions}; left as is (delete the topic to recreate it)`);
      }
      await admin.incrementalAlterConfigs({
        resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic.name, configs: [{ ...retention, configOperation: IncrementalAlterConfigOperationTypes.SET }] }],
      });
    }
    if (created.length > 0) progress(`kafka: created topics ${created.join(', ')}`);
  } catch (error) {
    throw new StackStartError(`kafka answers but creating its topics failed: ${(error as Error).message}`, { cause: error, canRetry: true });
  } finally {
    await admin.close().catch(() => undefined);
  }
}

async function prepare(context: ServiceContext): Promise<ProcessLaunch> {
  const { dir } = context.paths;
  const settings = kafkaSettings(context.config, dir);
  const configDir = join(dir, 'config');
  mkdirSync(configDir, { recursive: true });
  mkdirSync(settings.logDir, { recursive: true });
  const serverProperties = join(configDir, 'server.properties');
  const log4j = join(configDir, 'log4j2.properties');
  writeIfChanged(serverProperties, renderServerProperties(settings));
  writeIfChanged(log4j, renderKafkaLog4j2());
  const classpath = join(context.libDir, '*');
  const logging = [`-Dlog4j2.configurationFile=file:${log4j}`, `-Dkafka.logs.dir=${join(dir, 'logs')}`];

  if (!existsSync(join(settings.logDir, 'meta.properties'))) {
    // The cluster id is kept so that a lost meta.properties is formatted with the same id.
    const idFile = join(dir, 'cluster-id');
    const clusterId = existsSync(idFile) ? readFileSync(idFile, 'utf8').trim() : newClusterId();
    writeFileSync(idFile, `${clusterId}\n`);
    context.progress(`kafka: formatting KRaft storage in ${settings.logDir} (cluster id ${clusterId})`);
    const result = await runToCompletion(
      context.java,
      ['-Xmx256m', ...logging, '-cp', classpath, STORAGE_TOOL, 'format', '-t', clusterId, '-c', serverProperties, '--ignore-formatted'],
      dir,
      context.env,
    );
    if (result.code !== 0) {
      const tail = result.output.trim().split('\n').slice(-15).join('\n  ');
      throw new StackStartError(`kafka: formatting storage failed (exit ${String(result.code)}):\n  ${tail}`);
    }
  }
  return { args: [...KAFKA_JVM_OPTIONS, ...logging, '-cp', classpath, MAIN_CLASS, serverProperties] };
}

function endpoints(config: Config): readonly Endpoint[] {
  const port = portOf(config.kafka.brokers[0], 9092);
  return [
    { host: LOOPBACK, port, key: 'kafka.brokers', role: 'broker port' },
    { host: LOOPBACK, port: port + 1, key: 'kafka.brokers', role: 'controller port', rule: 'the port of kafka.brokers + 1' },
  ];
}

export const kafkaService: ServiceDefinition = {
  name: 'kafka',
  release: KAFKA_RELEASE,
  processes: [
    {
      name: 'kafka',
      mainClass: MAIN_CLASS,
      startTimeoutMs: 60_000,
      stopGraceMs: 30_000,
      endpoints,
      prepare,
      async probe(config) {
        const [client] = endpoints(config);
        const health = client === undefined ? undefined : await probeKafka(client);
        return health === undefined ? undefined : `cluster ${health.clusterId}, ${health.brokers} broker`;
      },
      async afterHealthy(config, progress) {
        const [client] = endpoints(config);
        if (client !== undefined) await ensureTopics(client, topicPlan(config), progress);
      },
    },
  ],
};
