export { SparkConnectClient, RuntimeConfig, toSparkError, type SparkConnectClientOptions } from './spark-connect-client.ts';
export { DataFrame, DataFrameReader, DataStreamReader, DataStreamWriter, GroupedData, type OutputMode, type StreamTrigger } from './dataframe.ts';
export { alias, cast, col, expr, fn, lit, literal, star, window } from './expressions.ts';
export {
  StreamingQuery,
  StreamingQueryManager,
  kafkaOffsets,
  parseProgress,
  type ActiveQuery,
  type StreamingQueryException,
  type StreamingQueryProgress,
  type StreamingQueryStatus,
} from './streaming-query.ts';
export { arrowBatchToRows, type Row, type RowValue } from './arrow-rows.ts';
export { parseConnectionString, DEFAULT_SPARK_CONNECT_PORT, type SparkConnectTarget } from './connection-string.ts';
export { loadOrCreateSessionId } from './session-id.ts';
export type { PlanRunner } from './plan-runner.ts';
export type * from './proto-types.ts';
export {
  activeBarJobQueries,
  BAR_UPDATES_TOPIC,
  barQueryName,
  BARS_STORE_QUERY,
  startBarJob,
  stopBarJob,
  TRADES_QUERY,
  type BarJobOptions,
} from './bar-job.ts';
