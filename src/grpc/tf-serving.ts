/**
 * TensorFlow Serving's gRPC API (tensorflow_serving/apis/prediction_service.proto and
 * model_service.proto): Predict, Classify, GetModelMetadata and GetModelStatus on the same
 * manager, queues and checks as the REST routes of handlers/tfserving.ts.
 */
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { BadRequest } from '../errors/errors';
import type { Servable } from '../inference/servable';
import { rankClasses } from '../protocols/ranking';
import { predictChecked } from '../protocols/run';
import { tfSignatureDef } from '../protocols/signature';
import { selectVersionStatus } from '../protocols/status';
import { checkSignature, DEFAULT_SIGNATURE } from '../protocols/tf-request';
import { type RpcContext, unary } from './call';
import { Unimplemented } from './status';
import { type InputProto, readInputExamples } from './tf-example';
import { outputTensor, readTensorInputs, type TensorProto } from './tf-tensor';

/** tensorflow.serving.ModelSpec (version_choice: a number or a label). */
export interface ModelSpec {
  name: string;
  version_choice?: 'version' | 'version_label';
  version?: { value: number } | null;
  version_label?: string;
  signature_name: string;
}

/** The model and version a ModelSpec names (no version: the newest available). */
export function specRef(spec: ModelSpec | null): { name: string; version?: number } {
  if (!spec?.name) throw new BadRequest('model_spec.name is required.');
  if (spec.version_choice === 'version_label') {
    throw new BadRequest(`model_spec.version_label '${spec.version_label}': this server has no version labels; name a version number or none (the newest).`);
  }
  if (spec.version_choice === 'version' && spec.version) {
    const version = spec.version.value;
    if (!Number.isSafeInteger(version) || version < 1) throw new BadRequest(`model_spec.version must be a positive whole number, got ${version}.`);
    return { name: spec.name, version };
  }
  return { name: spec.name };
}

/** The ModelSpec a response carries: the version that actually served. */
function servedSpec(servable: Servable, signature = true) {
  return { name: servable.name, version: { value: servable.version }, signature_name: signature ? DEFAULT_SIGNATURE : '' };
}

interface PredictRequest {
  model_spec: ModelSpec | null;
  inputs: Record<string, TensorProto>;
  output_filter: string[];
}

interface ClassificationRequest {
  model_spec: ModelSpec | null;
  input: InputProto | null;
}

interface GetModelMetadataRequest {
  model_spec: ModelSpec | null;
  metadata_field: string[];
}

interface GetModelStatusRequest {
  model_spec: ModelSpec | null;
}

const SIGNATURE_DEF_MAP_URL = 'type.googleapis.com/tensorflow.serving.SignatureDefMap';

/** PredictionService: Predict, Classify, GetModelMetadata; Regress and MultiInference answer UNIMPLEMENTED. */
export function predictionService(context: RpcContext, signatureDefMap: protobuf.Type): UntypedServiceImplementation {
  const rpc = (method: string) => `/tensorflow.serving.PredictionService/${method}`;
  const { models } = context;
  return {
    Predict: unary(rpc('Predict'), context, async (request: PredictRequest) => {
      const ref = specRef(request.model_spec);
      checkSignature(request.model_spec?.signature_name);
      return models.withServable(ref, async (servable) => {
        const { input, output } = servable.metadata;
        const names = Object.keys(request.inputs);
        if (names.length !== 1 || names[0] !== input.name) {
          throw new BadRequest(`inputs names ${JSON.stringify(names)}; this model has one input, '${input.name}'.`);
        }
        const unknown = request.output_filter.find((name) => name !== output.name);
        if (unknown !== undefined) throw new BadRequest(`output_filter: unknown output '${unknown}'; this model's output is '${output.name}'.`);
        const where = `inputs['${input.name}']`;
        const rows = await predictChecked(servable, readTensorInputs(request.inputs[input.name]!, servable.metadata, context.maxBatchInstances, where), (i) => `${where}, example ${i}`);
        return { model_spec: servedSpec(servable), outputs: { [output.name]: outputTensor(rows) } };
      });
    }),

    Classify: unary(rpc('Classify'), context, async (request: ClassificationRequest) => {
      checkSignature(request.model_spec?.signature_name);
      return models.withServable(specRef(request.model_spec), async (servable) => {
        const inputs = readInputExamples(request.input, servable.metadata, context.maxBatchInstances);
        const rows = await predictChecked(servable, inputs, (i) => `input example ${i}`);
        const classifications = rows.map((row) => ({ classes: rankClasses(row, servable.metadata).map(({ label, score }) => ({ label, score })) }));
        return { model_spec: servedSpec(servable), result: { classifications } };
      });
    }),

    GetModelMetadata: unary(rpc('GetModelMetadata'), context, async (request: GetModelMetadataRequest) => {
      // As TF Serving: the fields must be asked for, and signature_def is the only one there is.
      if (request.metadata_field.length === 0) throw new BadRequest('metadata_field is empty; ask for "signature_def".');
      const unsupported = request.metadata_field.find((field) => field !== 'signature_def');
      if (unsupported !== undefined) throw new BadRequest(`metadata_field '${unsupported}' is not supported; the only one is "signature_def".`);
      return models.withServable(specRef(request.model_spec), async (servable) => {
        const map = signatureDefMap.fromObject({ signature_def: { [DEFAULT_SIGNATURE]: tfSignatureDef(servable.metadata) } });
        return {
          model_spec: servedSpec(servable, false),
          metadata: { signature_def: { type_url: SIGNATURE_DEF_MAP_URL, value: Buffer.from(signatureDefMap.encode(map).finish()) } },
        };
      });
    }),

    Regress: unary(rpc('Regress'), context, async () => {
      throw new Unimplemented('Regress', 'the models served here are classifiers; use Predict or Classify.');
    }),

    MultiInference: unary(rpc('MultiInference'), context, async () => {
      throw new Unimplemented('MultiInference', 'send Classify or Predict requests.');
    }),
  };
}

/** ModelService: GetModelStatus; HandleReloadConfigRequest answers UNIMPLEMENTED (the store and its config.yaml files are the configuration). */
export function modelService(context: RpcContext): UntypedServiceImplementation {
  const rpc = (method: string) => `/tensorflow.serving.ModelService/${method}`;
  return {
    GetModelStatus: unary(rpc('GetModelStatus'), context, async (request: GetModelStatusRequest) => {
      const { name, version } = specRef(request.model_spec);
      return {
        model_version_status: selectVersionStatus(context.models, name, version).map((s) => ({
          version: s.version,
          state: s.state,
          status: s.error === undefined ? { error_code: 'OK', error_message: '' } : { error_code: 'UNKNOWN', error_message: s.error },
        })),
      };
    }),

    HandleReloadConfigRequest: unary(rpc('HandleReloadConfigRequest'), context, async () => {
      throw new Unimplemented('HandleReloadConfigRequest', 'models are configured by the model store (MODEL_STORE) and reloaded from it (MODEL_POLL_SECONDS, SIGHUP).');
    }),
  };
}
