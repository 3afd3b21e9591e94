import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadSync, type MethodDefinition, type PackageDefinition, type ServiceDefinition } from '@grpc/proto-loader';
import type {
  AnalyzePlanRequest,
  AnalyzePlanResponse,
  ConfigRequest,
  ConfigResponse,
  ExecutePlanRequest,
  ExecutePlanResponse,
} from './proto-types.ts';

/**
 * The protobuf layer: the hand-written .proto subset in proto/, loaded at run time by
 * @grpc/proto-loader (no generated code). keepCase keeps the proto's field names, longs
 * become decimal strings, enums their names, and a decoded oneof names its set member.
 */
export const PROTO_LOAD_OPTIONS = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
} as const;

export const SERVICE_NAME = 'spark.connect.SparkConnectService';

/** Where the .proto files are: beside this file when run from sources, under src/ when compiled. */
function protoRoot(): string {
  const beside = fileURLToPath(new URL('./proto/', import.meta.url));
  if (existsSync(beside)) return beside;
  return fileURLToPath(new URL('../../src/spark/proto/', import.meta.url));
}

export interface SparkConnectMethods {
  readonly ExecutePlan: MethodDefinition<ExecutePlanRequest, ExecutePlanResponse>;
  readonly Config: MethodDefinition<ConfigRequest, ConfigResponse>;
  readonly AnalyzePlan: MethodDefinition<AnalyzePlanRequest, AnalyzePlanResponse>;
}

let loaded: { readonly packageDefinition: PackageDefinition; readonly methods: SparkConnectMethods } | undefined;

/** Loads the .proto files once per process; they never change while it runs. */
export function sparkConnectProtocol(): { readonly packageDefinition: PackageDefinition; readonly methods: SparkConnectMethods } {
  if (loaded) return loaded;
  const packageDefinition = loadSync(['spark/connect/base.proto'], { ...PROTO_LOAD_OPTIONS, includeDirs: [protoRoot()] });
  const service = packageDefinition[SERVICE_NAME] as ServiceDefinition | undefined;
  if (!service) throw new Error(`${SERVICE_NAME} is missing from the .proto files`);
  const method = <Req, Res>(name: keyof SparkConnectMethods): MethodDefinition<Req, Res> => {
    const m = service[name];
    if (!m) throw new Error(`${SERVICE_NAME}/${name} is missing from the .proto files`);
    // The shapes in proto-types.ts are written to match the .proto files this definition came from.
    return m as unknown as MethodDefinition<Req, Res>;
  };
  loaded = {
    packageDefinition,
    methods: {
      ExecutePlan: method('ExecutePlan'),
      Config: method('Config'),
      AnalyzePlan: method('AnalyzePlan'),
    },
  };
  return loaded;
}

export const encodeExecutePlanRequest = (request: ExecutePlanRequest): Buffer =>
  sparkConnectProtocol().methods.ExecutePlan.requestSerialize(request);

export const decodeExecutePlanRequest = (bytes: Uint8Array): ExecutePlanRequest =>
  sparkConnectProtocol().methods.ExecutePlan.requestDeserialize(Buffer.from(bytes));

export const encodeExecutePlanResponse = (response: ExecutePlanResponse): Buffer =>
  sparkConnectProtocol().methods.ExecutePlan.responseSerialize(response);

export const decodeExecutePlanResponse = (bytes: Uint8Array): ExecutePlanResponse =>
  sparkConnectProtocol().methods.ExecutePlan.responseDeserialize(Buffer.from(bytes));

export const encodeConfigRequest = (request: ConfigRequest): Buffer =>
  sparkConnectProtocol().methods.Config.requestSerialize(request);

export const decodeConfigResponse = (bytes: Uint8Array): ConfigResponse =>
  sparkConnectProtocol().methods.Config.responseDeserialize(Buffer.from(bytes));
