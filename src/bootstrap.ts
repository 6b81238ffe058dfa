import path from 'node:path';
import type { Express } from 'express';
import type { Registry } from 'prom-client';
import type { HandlerContext, MetricsSource } from '../handlers/context';
import { createApp } from './api/app';
import { BodyBudget } from './api/inflight';
import { resolveOperations } from './api/resolver';
import { type ApiSpec, listOperations, loadSpec } from './api/spec';
import type { BackendName, Config } from './config';
import { GrpcAccessControl } from './grpc/auth';
import type { RpcContext } from './grpc/call';
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from './images';
import { ModelManager } from './inference/manager';
import type { VersionPlanner } from './inference/planner';
import { createServiceMetrics } from './metrics';
import { readModelConfig } from './model-store/model-config';
import { singleModelHint } from './model-store/repository';
import { WorkerPool } from './inference/worker-pool';
import { HANDLERS_DIR, SPEC_FILE } from './paths';

export interface Service {
  app: Express;
  models: ModelManager;
  pool: WorkerPool;
  /** This service's own metrics (in a process of several serving threads, /metrics shows them all). */
  registry: Registry;
  backend: BackendName;
  /** Readiness answers 503 once `draining` is set (shutdown). */
  lifecycle: HandlerContext['lifecycle'];
  /** What the gRPC server (src/grpc) serves with: the same manager, limits, lifecycle, keys and metrics. */
  rpc: RpcContext;
  /** Stops model polling, unloads every model and stops the workers. */
  close(): Promise<void>;
  /** Settles when the first read of the store has finished: rejects when no model could be loaded. */
  loaded: Promise<void>;
}

/**
 * What the serving threads of one process share (src/serving): one planner, in the main thread,
 * plans each version once for every thread; one budget of request-body bytes; /metrics answers
 * for the whole process.
 */
export interface SharedResources {
  planner: { planner: VersionPlanner; backend: BackendName };
  /** BodyBudget.shared of the process's budget. */
  bodies: SharedArrayBuffer;
  /** The scrape of every thread's metrics, aggregated. */
  scrape: MetricsSource['scrape'];
}

/** The image limits of the config (MAX_IMAGE_PIXELS, IMAGE_DECODER) over the defaults. */
export function imageLimitsOf(config: Config): ImageLimits {
  return { ...DEFAULT_IMAGE_LIMITS, maxPixels: config.maxImagePixels, decoder: config.imageDecoder };
}

/** What every handler gets besides its named parameters (handlers/context.ts). */
export function handlerContext(config: Config, spec: ApiSpec, models: ModelManager, metrics: HandlerContext['metrics'], imageLimits: ImageLimits): HandlerContext {
  return {
    models,
    maxBatchInstances: config.maxBatchInstances,
    spec: { document: spec.document, yamlText: spec.yamlText },
    routeModels: config.routeModels,
    lifecycle: { draining: false },
    metrics,
    imageLimits,
  };
}

/**
 * Everything before `listen()`, in the order that fails fastest: the spec and its handlers
 * (cheap, and a bad one is a programming error), then the inference workers (each starts its
 * backend). The models then load in the background (`loaded`), so the port can open at once:
 * liveness answers while a large store loads, readiness and every model route answer 503 with
 * Retry-After until it has.
 * Any failure throws with a message saying what to fix.
 */
export async function openService(config: Config, specFile = SPEC_FILE, handlersDir = HANDLERS_DIR, shared?: SharedResources): Promise<Service> {
  const spec = loadSpec(specFile);
  const operations = resolveOperations(listOperations(spec.document), handlersDir);
  const imageLimits = imageLimitsOf(config);
  const pool = await WorkerPool.start({
    size: config.workers,
    backend: config.backend,
    imageLimits,
    requestTimeoutMs: config.requestTimeoutMs,
    threads: config.intraOpThreads,
    ...(shared ? { planner: shared.planner } : {}),
  });
  const models = new ModelManager(
    config.modelStore,
    (stored) => {
      const modelConfig = readModelConfig(stored.configDir ?? path.dirname(stored.dir));
      return pool.load(stored, modelConfig.batching, modelConfig.engine);
    },
    { download: config.download, modelName: config.modelName },
  );
  const close = async (): Promise<void> => {
    models.dispose();
    await pool.close();
  };

  // Per service, not process-global: several services in one process keep their own.
  const bodyBudget = new BodyBudget(config.maxInflightBytes, shared?.bodies);
  const metrics = createServiceMetrics({ pool, models, bodies: bodyBudget });
  const source = shared ? { contentType: metrics.source.contentType, scrape: shared.scrape } : metrics.source;
  const context = handlerContext(config, spec, models, source, imageLimits);
  const { lifecycle } = context;
  const app = createApp({
    spec,
    operations,
    context,
    maxUploadBytes: config.maxUploadBytes,
    bodyBudget,
    validateResponses: config.validateResponses,
    auth: config.auth,
    corsOrigins: config.corsOrigins,
    requestMetrics: metrics.requestMetrics,
  });
  const rpc: RpcContext = {
    models,
    maxBatchInstances: config.maxBatchInstances,
    lifecycle,
    serverVersion: String((spec.document as { info?: { version?: unknown } }).info?.version ?? 'unknown'),
    access: new GrpcAccessControl(config.auth.apiKeys),
    observe: metrics.rpcMetrics,
    bodies: bodyBudget,
  };
  const loaded = loadStore(models, config);
  loaded.catch(() => undefined); // the caller awaits it; until then a failure must not count as unhandled
  return { app, models, pool, registry: metrics.registry, backend: pool.backend, lifecycle, rpc, close, loaded };
}

/** `openService`, then waits for the models: the service is ready when this resolves. */
export async function startService(config: Config, specFile = SPEC_FILE, handlersDir = HANDLERS_DIR): Promise<Service> {
  const service = await openService(config, specFile, handlersDir);
  try {
    await service.loaded;
  } catch (e) {
    await service.close();
    throw e;
  }
  return service;
}

/**
 * The first read of the store, then polling. One bad model must not stop the others; but a
 * server with nothing to serve is a mistake: rejects with every reason.
 */
async function loadStore(models: ModelManager, config: Config): Promise<void> {
  await models.reconcile();
  if (models.list().length === 0) {
    const reasons = models
      .names()
      .flatMap((name) => {
        const modelError = models.modelError(name);
        // A refused source also ends the version it was to become, with the same message: say it once.
        const versionErrors = models.versionStatus(name).map((s) => s.error !== modelError && s.error && `${name}/${s.version}: ${s.error}`);
        return [modelError, ...versionErrors];
      })
      .filter(Boolean);
    throw new Error(
      reasons.length > 0
        ? `No model could be loaded from ${config.modelStore}:\n${reasons.map((r) => `  - ${r}`).join('\n')}`
        : (singleModelHint(config.modelStore) ?? `No model in ${config.modelStore}: expected <name>/<version>/ folders (model.json + metadata.json)`),
    );
  }
  models.startWatching(config.pollSeconds * 1000);
}
