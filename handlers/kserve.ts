/**
 * KServe / Open Inference Protocol v2 over REST
 * (https://kserve.github.io/website/latest/modelserving/data_plane/v2_protocol/): server and model
 * metadata, model readiness and inference, with the classification extension. Errors on these
 * routes carry the protocol's `error` member (added by the app's error exit, by path).
 * Liveness and server readiness (/v2/health/*) are in health.ts.
 */
import type { HandlerContext } from './context';
import { inferModelMetadata, type InferRequest, type InferResponse, runInfer, serverMetadata } from '../src/protocols/infer';
import { checkModelReady } from '../src/protocols/readiness';

interface ModelParams {
  name: string;
  version?: number;
}

/** GET /v2: server metadata; name and version are the API document's. */
export async function getServerMetadata(_params: Record<string, never>, { spec }: HandlerContext) {
  const info = (spec.document as { info?: { version?: unknown } }).info;
  return serverMetadata(String(info?.version ?? 'unknown'));
}

// ---- model metadata ----------------------------------------------------------------------

async function modelMetadata({ name, version }: ModelParams, { models }: HandlerContext) {
  return models.withServable({ name, version }, async (servable) => inferModelMetadata(models, servable));
}

/** GET /v2/models/{name} */
export const getModelMetadata = modelMetadata;
/** GET /v2/models/{name}/versions/{version} */
export const getModelVersionMetadata = modelMetadata;

// ---- model readiness ---------------------------------------------------------------------

/** 200 `{name, ready: true}` when the model (or version) can serve; see checkModelReady for 503 and 404. */
async function modelReady({ name, version }: ModelParams, { models }: HandlerContext): Promise<{ name: string; ready: true }> {
  checkModelReady(models, name, version);
  return { name, ready: true };
}

/** GET /v2/models/{name}/ready */
export const getModelReady = modelReady;
/** GET /v2/models/{name}/versions/{version}/ready */
export const getModelVersionReady = modelReady;

// ---- inference ---------------------------------------------------------------------------

async function inferRequest({ name, version, body }: ModelParams & { body: InferRequest }, context: HandlerContext): Promise<InferResponse> {
  return context.models.withServable({ name, version }, (servable) => runInfer(servable, body, context.maxBatchInstances));
}

/** POST /v2/models/{name}/infer */
export const infer = inferRequest;
/** POST /v2/models/{name}/versions/{version}/infer */
export const inferVersion = inferRequest;
