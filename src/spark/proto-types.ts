/**
 * TypeScript shapes of the Spark Connect messages declared in proto/ (Spark 3.5.x).
 * Field names are the proto's own (snake_case), because the protobuf layer is loaded with
 * keepCase: these objects are exactly what goes on the wire, so a plan built here can be
 * compared field by field with the .proto files. A oneof is a union of single-key objects.
 * int64 fields are decimal strings (the protobuf layer is loaded with longs: String).
 */

export type Int64 = string;

export interface UserContext {
  readonly user_id: string;
  readonly user_name?: string;
}

// ---- expressions.proto ----

export type Literal =
  | { readonly boolean: boolean }
  | { readonly integer: number }
  | { readonly long: Int64 }
  | { readonly double: number }
  | { readonly string: string }
  | { readonly date: number }
  | { readonly timestamp: Int64 }
  | { readonly decimal: { readonly value: string; readonly precision?: number; readonly scale?: number } };

export interface SortOrder {
  readonly child: Expression;
  readonly direction: 'SORT_DIRECTION_ASCENDING' | 'SORT_DIRECTION_DESCENDING';
  readonly null_ordering?: 'SORT_NULLS_FIRST' | 'SORT_NULLS_LAST';
}

export type Expression =
  | { readonly literal: Literal }
  | { readonly unresolved_attribute: { readonly unparsed_identifier: string } }
  | {
      readonly unresolved_function: {
        readonly function_name: string;
        readonly arguments: readonly Expression[];
        readonly is_distinct?: boolean;
      };
    }
  | { readonly expression_string: { readonly expression: string } }
  | { readonly unresolved_star: { readonly unparsed_target?: string } }
  | { readonly alias: { readonly expr: Expression; readonly name: readonly string[] } }
  | { readonly cast: { readonly expr: Expression; readonly type_str: string } }
  | { readonly sort_order: SortOrder };

// ---- relations.proto ----

export interface DataSource {
  readonly format?: string;
  readonly schema?: string;
  readonly options?: Readonly<Record<string, string>>;
  readonly paths?: readonly string[];
}

export type Read = { readonly is_streaming?: boolean } & (
  | { readonly data_source: DataSource }
  | { readonly named_table: { readonly unparsed_identifier: string; readonly options?: Readonly<Record<string, string>> } }
);

export type GroupType = 'GROUP_TYPE_GROUPBY' | 'GROUP_TYPE_ROLLUP' | 'GROUP_TYPE_CUBE';

export type Relation =
  | { readonly read: Read }
  | { readonly project: { readonly input?: Relation; readonly expressions: readonly Expression[] } }
  | { readonly filter: { readonly input: Relation; readonly condition: Expression } }
  | { readonly sort: { readonly input: Relation; readonly order: readonly SortOrder[]; readonly is_global?: boolean } }
  | { readonly limit: { readonly input: Relation; readonly limit: number } }
  | {
      readonly aggregate: {
        readonly input: Relation;
        readonly group_type: GroupType;
        readonly grouping_expressions: readonly Expression[];
        readonly aggregate_expressions: readonly Expression[];
      };
    }
  | { readonly sql: { readonly query: string; readonly args?: Readonly<Record<string, Literal>> } }
  | { readonly local_relation: { readonly data?: Uint8Array; readonly schema?: string } }
  | { readonly with_watermark: { readonly input: Relation; readonly event_time: string; readonly delay_threshold: string } };

// ---- commands.proto ----

export interface StreamingQueryInstanceId {
  readonly id: string;
  readonly run_id: string;
}

export type Trigger =
  | { readonly processing_time_interval: string }
  | { readonly available_now: boolean }
  | { readonly once: boolean }
  | { readonly continuous_checkpoint_interval: string };

export type WriteStreamOperationStart = {
  readonly input: Relation;
  readonly format?: string;
  readonly options?: Readonly<Record<string, string>>;
  readonly partitioning_column_names?: readonly string[];
  readonly output_mode?: string;
  readonly query_name?: string;
} & (Trigger | Record<never, never>) &
  ({ readonly path: string } | { readonly table_name: string } | Record<never, never>);

export type StreamingQueryCommand = { readonly query_id: StreamingQueryInstanceId } & (
  | { readonly status: true }
  | { readonly last_progress: true }
  | { readonly recent_progress: true }
  | { readonly stop: true }
  | { readonly process_all_available: true }
  | { readonly exception: true }
  | { readonly explain: { readonly extended: boolean } }
  | { readonly await_termination: { readonly timeout_ms?: Int64 } }
);

export type StreamingQueryManagerCommand =
  | { readonly active: true }
  | { readonly get_query: string }
  | { readonly await_any_termination: { readonly timeout_ms?: Int64 } }
  | { readonly reset_terminated: true };

export type Command =
  | { readonly sql_command: { readonly sql: string } }
  | {
      readonly create_dataframe_view: {
        readonly input: Relation;
        readonly name: string;
        readonly is_global?: boolean;
        readonly replace?: boolean;
      };
    }
  | { readonly write_stream_operation_start: WriteStreamOperationStart }
  | { readonly streaming_query_command: StreamingQueryCommand }
  | { readonly streaming_query_manager_command: StreamingQueryManagerCommand };

// ---- base.proto ----

export type Plan = { readonly root: Relation } | { readonly command: Command };

export interface ExecutePlanRequest {
  readonly session_id: string;
  readonly user_context: UserContext;
  readonly plan: Plan;
  readonly client_type?: string;
  readonly operation_id?: string;
  readonly tags?: readonly string[];
}

export interface KeyValue {
  readonly key: string;
  readonly value?: string;
}

export type ConfigOperation =
  | { readonly set: { readonly pairs: readonly KeyValue[] } }
  | { readonly get: { readonly keys: readonly string[] } }
  | { readonly get_with_default: { readonly pairs: readonly KeyValue[] } }
  | { readonly get_option: { readonly keys: readonly string[] } }
  | { readonly get_all: { readonly prefix?: string } }
  | { readonly unset: { readonly keys: readonly string[] } };

export interface ConfigRequest {
  readonly session_id: string;
  readonly user_context: UserContext;
  readonly operation: ConfigOperation;
  readonly client_type?: string;
}

export interface AnalyzePlanRequest {
  readonly session_id: string;
  readonly user_context: UserContext;
  readonly client_type?: string;
  readonly spark_version: Record<never, never>;
}

// ---- responses, as decoded (defaults: false, so absent fields stay undefined) ----

export interface StatusResult {
  readonly status_message?: string;
  readonly is_data_available?: boolean;
  readonly is_trigger_active?: boolean;
  readonly is_active?: boolean;
}

export interface ExceptionResult {
  readonly exception_message?: string;
  readonly error_class?: string;
  readonly stack_trace?: string;
}

export interface StreamingQueryCommandResult {
  readonly query_id?: Partial<StreamingQueryInstanceId>;
  readonly status?: StatusResult;
  readonly recent_progress?: { readonly recent_progress_json?: readonly string[] };
  readonly explain?: { readonly result?: string };
  readonly exception?: ExceptionResult;
  readonly await_termination?: { readonly terminated?: boolean };
}

export interface StreamingQueryInstance {
  readonly id?: Partial<StreamingQueryInstanceId>;
  readonly name?: string;
}

export interface StreamingQueryManagerCommandResult {
  readonly active?: { readonly active_queries?: readonly StreamingQueryInstance[] };
  readonly query?: StreamingQueryInstance;
  readonly await_any_termination?: { readonly terminated?: boolean };
  readonly reset_terminated?: boolean;
}

export interface ExecutePlanResponse {
  readonly session_id?: string;
  readonly operation_id?: string;
  readonly response_id?: string;
  /** Which member of the response_type oneof is set (the protobuf layer adds it: oneofs: true). */
  readonly response_type?: string;
  readonly arrow_batch?: { readonly row_count?: Int64; readonly data?: Uint8Array };
  readonly sql_command_result?: { readonly relation?: Relation };
  readonly write_stream_operation_start_result?: {
    readonly query_id?: Partial<StreamingQueryInstanceId>;
    readonly name?: string;
  };
  readonly streaming_query_command_result?: StreamingQueryCommandResult;
  readonly streaming_query_manager_command_result?: StreamingQueryManagerCommandResult;
  readonly result_complete?: Record<never, never>;
}

export interface ConfigResponse {
  readonly session_id?: string;
  readonly pairs?: readonly KeyValue[];
  readonly warnings?: readonly string[];
}

export interface AnalyzePlanResponse {
  readonly session_id?: string;
  readonly spark_version?: { readonly version?: string };
}
