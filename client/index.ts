/**
 * specserve's typed client: `import { createSpecserveClient } from 'specserve/client'`.
 *
 * `client/openapi.ts` is generated from api/models.yaml by openapi-typescript (`npm run
 * generate:client`; a test fails when it is stale), and openapi-fetch turns those types into a
 * fetch client whose paths, parameters and bodies are checked by tsc: `client.api.GET('/models')`.
 * The helpers below cover the common calls and take an image as a Buffer, a Blob or a file path.
 * Every non-2xx answer throws a `SpecserveError` carrying the server's problem+json.
 */
import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './openapi';

export type { components, paths } from './openapi';
export type Schemas = components['schemas'];
export type Classification = Schemas['Classification'];
export type DigitPrediction = Schemas['DigitPrediction'];
export type ModelSummary = Schemas['ModelSummary'];
export type Explanation = Schemas['Explanation'];
export type ModelCard = Schemas['ModelCard'];
export type Problem = Schemas['Problem'];
export type TfPredictResponse = Schemas['TfPredictResponse'];
export type V2InferRequest = Schemas['V2InferRequest'];
export type V2InferResponse = Schemas['V2InferResponse'];

/** An image to send: its bytes, a Blob (a browser File), or a path to read (Node). */
export type ImageSource = Uint8Array | Blob | string;

export interface ClientOptions {
  /** The server, e.g. http://localhost:5000 (default). */
  url?: string;
  /** Sent as `Authorization: Bearer <key>` when the server has API_KEYS. */
  apiKey?: string;
  /** A fetch to use instead of the global one (tests, proxies). */
  fetch?: typeof globalThis.fetch;
}

/** A non-2xx answer: its status and the server's RFC 7807 problem (`detail` says what went wrong). */
export class SpecserveError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problem.detail);
    this.name = 'SpecserveError';
  }
}

function toProblem(status: number, body: unknown): Problem {
  if (typeof body === 'object' && body !== null && typeof (body as Problem).detail === 'string') return body as Problem;
  return { type: 'about:blank', title: `HTTP ${status}`, status, detail: typeof body === 'string' && body ? body : `The server answered ${status}.` };
}

/** openapi-fetch's result -> the data, or a thrown SpecserveError. */
function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (!result.response.ok || result.data === undefined) throw new SpecserveError(result.response.status, toProblem(result.response.status, result.error));
  return result.data;
}

async function toBlob(image: ImageSource): Promise<Blob> {
  if (image instanceof Blob) return image;
  // Read lazily so that the client also loads where there is no file system (a browser bundle).
  const bytes = typeof image === 'string' ? await (await import('node:fs/promises')).readFile(image) : image;
  return new Blob([bytes]);
}

/** A multipart body with the image in `field`, as the upload routes take it. */
async function imageForm(field: string, image: ImageSource): Promise<FormData> {
  const form = new FormData();
  form.append(field, await toBlob(image), typeof image === 'string' ? image.split(/[\\/]/).pop() : 'image');
  return form;
}

// The generated types describe the multipart body as an object with a `file` string; at run time
// it is the FormData built above, which openapi-fetch sends as is.
const asMultipart = (form: FormData) => form as unknown as { file: string };
const formBody = { bodySerializer: (body: unknown) => body as FormData };

export interface SpecserveClient {
  /** The generated client: every operation of api/models.yaml, typed. */
  readonly api: Client<paths>;
  /** GET /models: every model version being served. */
  listModels(): Promise<ModelSummary[]>;
  /** POST /mnist/classify: the digit in an image. */
  classifyDigit(image: ImageSource): Promise<DigitPrediction>;
  /** POST /models/{name}/classify: the top_k best labels of any model. */
  classify(model: string, image: ImageSource, options?: { topK?: number; version?: number }): Promise<Classification>;
  /** POST /predict (the Keras REST tutorial's route): labels with probabilities. */
  predict(image: ImageSource): Promise<{ label: string; probability: number }[]>;
  /** POST /v1/models/{name}:predict (TF Serving): one output row per instance. */
  tfServingPredict(model: string, instances: unknown[], options?: { version?: number }): Promise<number[][]>;
  /** POST /v2/models/{name}/infer (KServe v2). */
  v2Infer(model: string, request: V2InferRequest, options?: { version?: number }): Promise<V2InferResponse>;
  /** POST /models/{name}/explain: the occlusion grid as JSON. */
  explain(model: string, image: ImageSource, options?: ExplainOptions): Promise<Explanation>;
  /** POST /models/{name}/explain with Accept: image/png: the heatmap over the model's input. */
  explainPng(model: string, image: ImageSource, options?: ExplainOptions): Promise<Uint8Array>;
  /** GET /models/{name}/versions/{version}/card: the model card's metrics. */
  modelCard(model: string, version: number): Promise<ModelCard>;
}

export interface ExplainOptions {
  version?: number;
  patch?: number;
  stride?: number;
}

export function createSpecserveClient({ url = 'http://localhost:5000', apiKey, fetch }: ClientOptions = {}): SpecserveClient {
  const api = createClient<paths>({
    baseUrl: url.replace(/\/+$/, ''),
    headers: apiKey ? { Authorization: `Bearer ${apiKey}` } : {},
    ...(fetch ? { fetch } : {}),
  });

  const explainRequest = async (model: string, image: ImageSource, options: ExplainOptions, accept: string) =>
    api.POST('/models/{name}/explain', {
      params: { path: { name: model }, query: { version: options.version, patch: options.patch, stride: options.stride } },
      body: asMultipart(await imageForm('file', image)),
      headers: { Accept: accept },
      ...formBody,
      ...(accept === 'image/png' ? { parseAs: 'arrayBuffer' as const } : {}),
    });

  return {
    api,
    async listModels() {
      return unwrap(await api.GET('/models')).models;
    },
    async classifyDigit(image) {
      return unwrap(await api.POST('/mnist/classify', { body: asMultipart(await imageForm('file', image)), ...formBody }));
    },
    async classify(model, image, { topK, version } = {}) {
      return unwrap(
        await api.POST('/models/{name}/classify', {
          params: { path: { name: model }, query: { top_k: topK, version } },
          body: asMultipart(await imageForm('file', image)),
          ...formBody,
        }),
      );
    },
    async predict(image) {
      const body = unwrap(await api.POST('/predict', { body: asMultipart(await imageForm('image', image)) as never, ...formBody }));
      return body.predictions;
    },
    async tfServingPredict(model, instances, { version } = {}) {
      const body = { instances };
      const result =
        version === undefined
          ? await api.POST('/v1/models/{name}:predict', { params: { path: { name: model } }, body })
          : await api.POST('/v1/models/{name}/versions/{version}:predict', { params: { path: { name: model, version } }, body });
      const data = unwrap(result);
      return data.predictions ?? data.outputs ?? [];
    },
    async v2Infer(model, request, { version } = {}) {
      return unwrap(
        version === undefined
          ? await api.POST('/v2/models/{name}/infer', { params: { path: { name: model } }, body: request })
          : await api.POST('/v2/models/{name}/versions/{version}/infer', { params: { path: { name: model, version } }, body: request }),
      );
    },
    async explain(model, image, options = {}) {
      return unwrap(await explainRequest(model, image, options, 'application/json')) as Explanation;
    },
    async explainPng(model, image, options = {}) {
      const result = await explainRequest(model, image, options, 'image/png');
      if (!result.response.ok) throw new SpecserveError(result.response.status, toProblem(result.response.status, result.error));
      return new Uint8Array(result.data as unknown as ArrayBuffer);
    },
    async modelCard(model, version) {
      return unwrap(await api.GET('/models/{name}/versions/{version}/card', { params: { path: { name: model, version } } }));
    },
  };
}
