import path from 'node:path';
import { loadSync, type Options } from '@grpc/proto-loader';
import { type GrpcObject, loadPackageDefinition, type ServiceDefinition } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { PROTOS_DIR } from '../paths';

/**
 * The services this server implements, from the vendored official .proto files (api/protos,
 * untouched upstream copies): TF Serving's PredictionService and ModelService, KServe's
 * GRPCInferenceService (Open Inference Protocol v2) and grpc.health.v1.Health.
 */
export const PROTO_FILES = [
  'tensorflow_serving/apis/prediction_service.proto',
  'tensorflow_serving/apis/model_service.proto',
  'kserve/grpc_predict_v2.proto',
  'grpc/health/v1/health.proto',
];

/**
 * Field names as in the .proto files (snake_case, as TF Serving's REST JSON also writes them);
 * int64 as JS numbers (versions, dimensions: far below 2^53); enums as their names; bytes as
 * Buffers; unset fields filled with their defaults, so handlers need no undefined checks.
 */
export const LOADER_OPTIONS: Options = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true, includeDirs: [PROTOS_DIR] };

export interface ServiceDefinitions {
  prediction: ServiceDefinition;
  model: ServiceDefinition;
  inference: ServiceDefinition;
  health: ServiceDefinition;
}

function service(root: GrpcObject, name: string): ServiceDefinition {
  let node: unknown = root;
  for (const part of name.split('.')) node = (node as Record<string, unknown>)[part];
  const definition = (node as { service?: ServiceDefinition } | undefined)?.service;
  if (!definition) throw new Error(`${PROTOS_DIR}: the protos define no service ${name}`);
  return definition;
}

/** Loads the service definitions; a missing or broken .proto file stops start-up naming it. */
export function loadServiceDefinitions(): ServiceDefinitions {
  const root = loadPackageDefinition(loadSync(PROTO_FILES, LOADER_OPTIONS));
  return {
    prediction: service(root, 'tensorflow.serving.PredictionService'),
    model: service(root, 'tensorflow.serving.ModelService'),
    inference: service(root, 'inference.GRPCInferenceService'),
    health: service(root, 'grpc.health.v1.Health'),
  };
}

/**
 * GetModelMetadataResponse carries its metadata as google.protobuf.Any; packing one needs the
 * message type itself (SignatureDefMap), which protobufjs reads from the same files.
 */
export function loadSignatureDefMap(): protobuf.Type {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => path.join(PROTOS_DIR, target);
  root.loadSync('tensorflow_serving/apis/get_model_metadata.proto', { keepCase: true });
  return root.lookupType('tensorflow.serving.SignatureDefMap');
}
