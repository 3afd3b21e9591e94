export { stackUp, stackDown, stackStatus, stackLogs, crashMessage, CRASH_LOG_LINES, type StackOptions, type UpResult, type DownResult, type LogsOptions } from './stack.ts';
export { renderStatusTable, type StatusRow, type Health } from './status-table.ts';
export { resolveTargets, isServiceName, SERVICES, type ServiceTarget } from './registry.ts';
export { SERVICE_NAMES, type ServiceName } from './service.ts';
export { checkPrerequisites, type Prerequisites, type Env } from './prerequisites.ts';
export { stackCacheRoot } from './fetch.ts';
export { KAFKA_RELEASE, CASSANDRA_RELEASE, SPARK_RELEASE, SPARK_VERSION } from './versions.ts';
export { sparkSettings, stackConnectUrl, type SparkSettings } from './services/spark.ts';
