/**
 * TensorFlow Serving's REST API (https://www.tensorflow.org/tfx/serving/api_rest): model status,
 * metadata, :predict and :classify, same paths and JSON shapes. Errors on these routes
 * carry TF Serving's `error` member (added by the app's error exit, by path).
 */
import { engineReport } from '../src/inference/engines/engine';
import type { HandlerContext } from './context';
import type { VersionStatus } from '../src/inference/manager';
import type { Servable } from '../src/inference/servable';
import { readExamples } from '../src/protocols/examples';
import { checkBatchSize } from '../src/protocols/limits';
import { rankClasses } from '../src/protocols/ranking';
import { predictChecked } from '../src/protocols/run';
import { tfSignatureDef } from '../src/protocols/signature';
import { selectVersionStatus } from '../src/protocols/status';
import { classifyBatch, DEFAULT_SIGNATURE, predictBatch, type TfBatch, type TfRequestBody } from '../src/protocols/tf-request';

interface ModelParams {
  name: string;
  version?: number;
}

// ---- status ------------------------------------------------------------------------------

/** GetModelStatusResponse as JSON: int64 versions are strings, as proto3's JSON mapping writes them. */
interface ModelVersionStatus {
  version: string;
  state: VersionStatus['state'];
  status: { error_code: 'OK' | 'UNKNOWN'; error_message: string };
}

function toVersionStatus({ version, state, error }: VersionStatus): ModelVersionStatus {
  return { version: String(version), state, status: error === undefined ? { error_code: 'OK', error_message: '' } : { error_code: 'UNKNOWN', error_message: error } };
}

async function modelStatus({ name, version }: ModelParams, { models }: HandlerContext): Promise<{ model_version_status: ModelVersionStatus[] }> {
  return { model_version_status: selectVersionStatus(models, name, version).map(toVersionStatus) };
}

/** GET /v1/models/{name}: every version the server knows of, newest first. */
export const getModelStatus = modelStatus;
/** GET /v1/models/{name}/versions/{version} */
export const getModelVersionStatus = modelStatus;

// ---- metadata ----------------------------------------------------------------------------

async function modelMetadata({ name, version }: ModelParams, { models }: HandlerContext) {
  return models.withServable({ name, version }, async (servable) => ({
    model_spec: { name: servable.name, signature_name: '', version: String(servable.version) },
    metadata: {
      // Beside TF Serving's signature: which engine runs this version and why.
      engine: engineReport(servable.engine),
      signature_def: { signature_def: { [DEFAULT_SIGNATURE]: tfSignatureDef(servable.metadata) } },
    },
  }));
}

/** GET /v1/models/{name}/metadata: GetModelMetadataResponse of the newest version. */
export const getModelMetadata = modelMetadata;
/** GET /v1/models/{name}/versions/{version}/metadata */
export const getModelVersionMetadata = modelMetadata;

// ---- predict and classify ----------------------------------------------------------------

/** Reads a batch's examples (after the batch limit) and runs them as one predict call; 400 for a non-finite output. */
async function runBatch(servable: Servable, batch: TfBatch, context: HandlerContext): Promise<Float32Array[]> {
  checkBatchSize(batch.items.length, context.maxBatchInstances);
  return predictChecked(servable, readExamples(batch.items, servable.metadata, batch.where), (i) => `${batch.where}[${i}]`);
}

type PredictParams = ModelParams & { body: TfRequestBody };

async function predictRequest({ name, version, body }: PredictParams, context: HandlerContext) {
  return context.models.withServable({ name, version }, async (servable) => {
    const batch = predictBatch(body, servable.metadata.input.name);
    const rows = (await runBatch(servable, batch, context)).map((row) => Array.from(row));
    // One named output: TF Serving leaves its name out, in both layouts.
    return batch.layout === 'row' ? { predictions: rows } : { outputs: rows };
  });
}

/** POST /v1/models/{name}:predict: row (`instances`) or columnar (`inputs`) format. */
export const predict = predictRequest;
/** POST /v1/models/{name}/versions/{version}:predict */
export const predictVersion = predictRequest;

async function classifyRequest({ name, version, body }: PredictParams, context: HandlerContext) {
  return context.models.withServable({ name, version }, async (servable) => {
    const rows = await runBatch(servable, classifyBatch(body), context);
    return { result: rows.map((row) => rankClasses(row, servable.metadata).map(({ label, score }): [string, number] => [label, score])) };
  });
}

/** POST /v1/models/{name}:classify: every class with its score, best first, per example. */
export const classify = classifyRequest;
/** POST /v1/models/{name}/versions/{version}:classify */
export const classifyVersion = classifyRequest;
