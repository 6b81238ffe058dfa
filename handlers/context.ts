/**
 * What a handler may receive and return. Handlers are plain async functions of their named,
 * already-validated parameters plus this context; they never see Express. This file holds the
 * contract only, so handlers depend on nothing above them.
 */
import type { ImageLimits } from '../src/images/limits';
import type { ModelManager } from '../src/inference/manager';
import type { Lifecycle } from '../src/protocols/readiness';

/** A file from a multipart body, held in memory. */
export interface UploadedFile {
  fieldName: string;
  originalName: string;
  mimeType: string;
  size: number;
  buffer: Buffer;
}

/** The served API document, for the handlers that return it. */
export interface SpecSource {
  document: object;
  yamlText: string;
}

/**
 * This service instance's metrics (src/metrics), as the scrape handler needs them: text in the
 * Prometheus exposition format and its content type. An interface, so handlers need no prom-client.
 */
export interface MetricsSource {
  readonly contentType: string;
  scrape(): Promise<string>;
}

/** Services a handler may use. One instance per app; tests build their own. */
export interface HandlerContext {
  models: ModelManager;
  /** Most examples one predict/classify/infer request may carry (MAX_BATCH_INSTANCES). */
  maxBatchInstances: number;
  spec: SpecSource;
  /** The store model behind each seed-tutorial route; `scorefile` undefined: the first multi-label model. */
  routeModels: { predict: string; inference: string; scorefile: string | undefined };
  /** Set once shutdown begins: readiness answers 503 so load balancers stop sending traffic. */
  lifecycle: Lifecycle;
  /** Prometheus metrics of this service instance (GET /metrics). */
  metrics: MetricsSource;
  /** Limits for images a handler decodes itself (explain); default DEFAULT_IMAGE_LIMITS. */
  imageLimits?: ImageLimits;
}

/** Return this instead of plain data to choose the status, headers or content type. */
export class Reply {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {}
}

/**
 * Return this to answer in the representation the request's `Accept` prefers, among the media
 * types offered (the first when it names none of them). Each is built only if chosen.
 */
export class Negotiated {
  constructor(readonly representations: Readonly<Record<string, () => unknown>>) {}
}
