/**
 * KServe / Open Inference Protocol v2 over REST
 * (https://kserve.github.io/website/latest/modelserving/data_plane/v2_protocol/): server and model
 * metadata, model readiness and inference, with the classification extension. Errors on these
 * routes carry the protocol's `error` member (added by the app's error exit, by path).
 * Liveness and server readiness (/v2/health/*) are in health.ts.
 */
import { randomUUID } from 'node:crypto';
import type { HandlerContext } from './context';
import { ServiceUnavailable } from '../src/errors/errors';
import { VersionNotFound } from '../src/inference/manager';
import { enginePlatform } from '../src/inference/engines/engine';
import type { Servable } from '../src/inference/servable';
import { inferOutputs, type InferOutputTensor, type InferRequest, readInferInputs, requestedOutputs } from '../src/protocols/infer';
import { modelSignature } from '../src/protocols/signature';
import { checkFiniteOutputs } from '../src/protocols/tensor';

interface ModelParams {
  name: string;
  version?: number;
}

/** Extensions of the protocol this server implements. */
export const EXTENSIONS = ['classification'] as const;

/** GET /v2: server metadata; name and version are the API document's. */
export async function getServerMetadata(_params: Record<string, never>, { spec }: HandlerContext) {
  const info = (spec.document as { info?: { version?: unknown } }).info;
  return { name: 'specserve', version: String(info?.version ?? 'unknown'), extensions: [...EXTENSIONS] };
}

// ---- model metadata ----------------------------------------------------------------------

async function modelMetadata({ name, version }: ModelParams, { models }: HandlerContext) {
  return models.withServable({ name, version }, async (servable) => {
    const { inputs, outputs } = modelSignature(servable.metadata);
    return {
      name: servable.name,
      // Every version that can serve, newest first; the protocol writes versions as strings.
      versions: models.availableVersions(name).map(String),
      platform: enginePlatform(servable.engine.name),
      inputs: inputs.map((t) => ({ ...t, datatype: 'FP32' })),
      outputs: outputs.map((t) => ({ ...t, datatype: 'FP32' })),
    };
  });
}

/** GET /v2/models/{name} */
export const getModelMetadata = modelMetadata;
/** GET /v2/models/{name}/versions/{version} */
export const getModelVersionMetadata = modelMetadata;

// ---- model readiness ---------------------------------------------------------------------

/**
 * As KServe's model server does: 200 `{name, ready: true}` when the model (or the version) can
 * serve; a model or version the server knows but cannot serve (loading, failed, unloading) is
 * KServe's ModelNotReady, a 503; one it never heard of is 404.
 */
async function modelReady({ name, version }: ModelParams, { models }: HandlerContext): Promise<{ name: string; ready: true }> {
  const statuses = models.versionStatus(name); // 404 for an unknown model
  const available = models.availableVersions(name);
  if (version === undefined) {
    if (available.length === 0) throw new ServiceUnavailable(`Model '${name}' is not ready: no version is available.`);
  } else if (!available.includes(version)) {
    const status = statuses.find((s) => s.version === version);
    if (!status) throw new VersionNotFound(name, version, available);
    // The state only: a load failure's reason names files on the server (GET /v1/models/{name} has it).
    throw new ServiceUnavailable(`Model '${name}' version ${version} is not ready (${status.state}).`);
  }
  return { name, ready: true };
}

/** GET /v2/models/{name}/ready */
export const getModelReady = modelReady;
/** GET /v2/models/{name}/versions/{version}/ready */
export const getModelVersionReady = modelReady;

// ---- inference ---------------------------------------------------------------------------

interface InferResponse {
  model_name: string;
  model_version: string;
  id: string;
  outputs: InferOutputTensor[];
}

async function runInfer(servable: Servable, request: InferRequest, context: HandlerContext): Promise<InferResponse> {
  // Both are checked before the model runs: a bad `outputs` must not cost an inference.
  const inputs = readInferInputs(request, servable.metadata, context.maxBatchInstances);
  const requested = requestedOutputs(request, servable.metadata);
  const rows = await servable.predict(inputs.map((tensor) => ({ tensor })));
  checkFiniteOutputs(rows, (i) => `inputs[0] ('${request.inputs[0]!.name}'), example ${i}`);
  return {
    model_name: servable.name,
    model_version: String(servable.version),
    // KServe answers a generated id when the request has none.
    id: request.id ?? randomUUID(),
    outputs: inferOutputs(rows, requested, servable.metadata),
  };
}

async function inferRequest({ name, version, body }: ModelParams & { body: InferRequest }, context: HandlerContext): Promise<InferResponse> {
  return context.models.withServable({ name, version }, (servable) => runInfer(servable, body, context));
}

/** POST /v2/models/{name}/infer */
export const infer = inferRequest;
/** POST /v2/models/{name}/versions/{version}/infer */
export const inferVersion = inferRequest;
