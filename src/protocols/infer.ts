import { randomUUID } from 'node:crypto';
import { BadRequest } from '../errors/errors';
import { enginePlatform } from '../inference/engines/engine';
import type { ModelManager } from '../inference/manager';
import type { Servable } from '../inference/servable';
import { type ModelMetadata, outputUnits } from '../model-store/metadata';
import { checkBatchSize } from './limits';
import { rankClasses } from './ranking';
import { predictChecked } from './run';
import { modelSignature } from './signature';
import { checkBatchShape, flattenNested, formatShape, splitBatch, toFiniteFloat32 } from './tensor';

/** Open Inference Protocol v2 tensors of this server: inputs and scores are FP32, classifications BYTES. */
export type Datatype = 'FP32' | 'BYTES';

export interface InferInputTensor {
  name: string;
  shape: number[];
  datatype: string;
  parameters?: Record<string, unknown>;
  /** JSON: flat or nested numbers. gRPC: the values already flat (typed contents or raw bytes). */
  data: unknown;
}

export interface InferRequestedOutput {
  name: string;
  parameters?: { classification?: number } & Record<string, unknown>;
}

export interface InferRequest {
  id?: string;
  parameters?: Record<string, unknown>;
  inputs: InferInputTensor[];
  outputs?: InferRequestedOutput[];
}

export interface InferOutputTensor {
  name: string;
  shape: number[];
  datatype: Datatype;
  data: (number | string)[];
}

type InferModel = Pick<ModelMetadata, 'input' | 'output' | 'labels'>;

/**
 * The request's input tensor -> one model input per example. The declared shape is checked
 * first (batch axis, then an accepted example shape, then the batch limit), then the data, which
 * the protocol allows flat (row-major, `shape`'s product of values) or nested exactly as `shape`.
 */
export function readInferInputs(request: InferRequest, model: InferModel, maxBatch: number): Float32Array[] {
  const inputName = model.input.name;
  if (request.inputs.length !== 1) {
    throw new BadRequest(`This model takes exactly one input, '${inputName}'; the request has ${request.inputs.length}.`);
  }
  const input = request.inputs[0]!;
  const where = `inputs[0] ('${input.name}')`;
  if (input.name !== inputName) throw new BadRequest(`${where}: unknown input; this model's input is '${inputName}'.`);
  if (input.datatype !== 'FP32') {
    throw new BadRequest(`${where}: datatype ${input.datatype} is not supported; '${inputName}' is FP32.`);
  }
  // The declared shape and the batch limit are checked before any data is read.
  checkBatchSize(checkBatchShape(input.shape, model.input.shape, where), maxBatch);

  const data = input.data instanceof Float32Array ? { shape: [input.data.length], values: toFiniteFloat32(input.data, `${where}.contents`) } : flattenNested(input.data, `${where}.data`);
  const expected = input.shape.reduce((a, b) => a * b, 1);
  if (data.shape.length > 1 && formatShape(data.shape) !== formatShape(input.shape)) {
    throw new BadRequest(`${where}: data is nested as ${formatShape(data.shape)} but shape says ${formatShape(input.shape)}.`);
  }
  if (data.values.length !== expected) {
    throw new BadRequest(`${where}: shape ${formatShape(input.shape)} needs ${expected} values; data holds ${data.values.length}.`);
  }
  return splitBatch({ shape: input.shape, values: data.values }, model.input.shape, where);
}

/** The outputs a request asks for (all of them when it names none), checked against the model. */
export function requestedOutputs(request: InferRequest, model: InferModel): { name: string; classification?: number }[] {
  if (!request.outputs || request.outputs.length === 0) return [{ name: model.output.name }];
  return request.outputs.map((output, i) => {
    if (output.name !== model.output.name) {
      throw new BadRequest(`outputs[${i}]: unknown output '${output.name}'; this model's output is '${model.output.name}'.`);
    }
    const k = output.parameters?.classification;
    if (k === undefined) return { name: output.name };
    if (!Number.isInteger(k) || k < 1 || k > model.labels.length) {
      throw new BadRequest(`outputs[${i}].parameters.classification must be a whole number from 1 to ${model.labels.length}, got ${JSON.stringify(k)}.`);
    }
    return { name: output.name, classification: k };
  });
}

/**
 * Model output rows -> the response tensors. A requested classification of k answers the
 * classification extension's BYTES tensor [batch, k] of "score:index:label" strings, best first;
 * otherwise the FP32 scores [batch, labels], flattened row-major.
 */
export function inferOutputs(rows: readonly Float32Array[], requested: { name: string; classification?: number }[], model: InferModel): InferOutputTensor[] {
  return requested.map(({ name, classification }) => {
    if (classification === undefined) {
      return { name, datatype: 'FP32', shape: [rows.length, outputUnits(model)], data: rows.flatMap((row) => Array.from(row)) };
    }
    return {
      name,
      datatype: 'BYTES',
      shape: [rows.length, classification],
      data: rows.flatMap((row) => rankClasses(row, model, classification).map((c) => `${c.score}:${c.index}:${c.label}`)),
    };
  });
}

/** Extensions of the protocol this server implements. */
export const EXTENSIONS = ['classification'] as const;

/** Server metadata (REST GET /v2, gRPC ServerMetadata): the API document's version. */
export function serverMetadata(version: string): { name: string; version: string; extensions: string[] } {
  return { name: 'specserve', version, extensions: [...EXTENSIONS] };
}

export interface InferTensorMetadata {
  name: string;
  datatype: 'FP32';
  shape: number[];
}

/** Model metadata of one version (REST GET /v2/models/{name}, gRPC ModelMetadata). */
export function inferModelMetadata(models: Pick<ModelManager, 'availableVersions'>, servable: Servable) {
  const { inputs, outputs } = modelSignature(servable.metadata);
  const tensor = (t: { name: string; shape: number[] }): InferTensorMetadata => ({ name: t.name, datatype: 'FP32', shape: t.shape });
  return {
    name: servable.name,
    // Every version that can serve, newest first; the protocol writes versions as strings.
    versions: models.availableVersions(servable.name).map(String),
    platform: enginePlatform(servable.engine.name),
    inputs: inputs.map(tensor),
    outputs: outputs.map(tensor),
  };
}

export interface InferResponse {
  model_name: string;
  model_version: string;
  id: string;
  outputs: InferOutputTensor[];
}

/** One inference request on a pinned version (REST and gRPC ModelInfer). */
export async function runInfer(servable: Servable, request: InferRequest, maxBatch: number): Promise<InferResponse> {
  // Both are checked before the model runs: a bad `outputs` must not cost an inference.
  const inputs = readInferInputs(request, servable.metadata, maxBatch);
  const requested = requestedOutputs(request, servable.metadata);
  const rows = await predictChecked(
    servable,
    inputs.map((tensor) => ({ tensor })),
    (i) => `inputs[0] ('${request.inputs[0]!.name}'), example ${i}`,
  );
  return {
    model_name: servable.name,
    model_version: String(servable.version),
    // KServe answers a generated id when the request has none.
    id: request.id ?? randomUUID(),
    outputs: inferOutputs(rows, requested, servable.metadata),
  };
}
