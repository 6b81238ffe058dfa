import path from 'node:path';
import type { Express } from 'express';
import type { HandlerContext } from '../handlers/context';
import { createApp } from './api/app';
import { BodyBudget } from './api/inflight';
import { resolveOperations } from './api/resolver';
import { listOperations, loadSpec } from './api/spec';
import type { BackendName, Config } from './config';
import { DEFAULT_IMAGE_LIMITS } from './images';
import { ModelManager } from './inference/manager';
import { createServiceMetrics } from './metrics';
import { readModelConfig } from './model-store/model-config';
import { WorkerPool } from './inference/worker-pool';
import { HANDLERS_DIR, SPEC_FILE } from './paths';

export interface Service {
  app: Express;
  models: ModelManager;
  pool: WorkerPool;
  backend: BackendName;
  /** Readiness answers 503 once `draining` is set (shutdown). */
  lifecycle: HandlerContext['lifecycle'];
  /** Stops model polling, unloads every model and stops the workers. */
  close(): Promise<void>;
}

/**
 * Everything before `listen()`, in the order that fails fastest: the spec and its handlers
 * (cheap, and a bad one is a programming error), then the inference workers (each starts its
 * backend), then the models.
 * Any failure throws with a message saying what to fix.
 */
export async function startService(config: Config, specFile = SPEC_FILE, handlersDir = HANDLERS_DIR): Promise<Service> {
  const spec = loadSpec(specFile);
  const operations = resolveOperations(listOperations(spec.document), handlersDir);
  const imageLimits = { ...DEFAULT_IMAGE_LIMITS, maxPixels: config.maxImagePixels };
  const pool = await WorkerPool.start({ size: config.workers, backend: config.backend, imageLimits, requestTimeoutMs: config.requestTimeoutMs, threads: config.intraOpThreads });
  const models = new ModelManager(config.modelStore, (stored) => {
    const modelConfig = readModelConfig(path.dirname(stored.dir));
    return pool.load(stored, modelConfig.batching, modelConfig.engine);
  }, { download: config.download });
  const close = async (): Promise<void> => {
    models.dispose();
    await pool.close();
  };
  try {
    await models.reconcile();
  } catch (e) {
    await close();
    throw e;
  }
  // One bad model must not stop the others; but a server with nothing to serve is a mistake.
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
    await close();
    throw new Error(
      reasons.length > 0
        ? `No model could be loaded from ${config.modelStore}:\n${reasons.map((r) => `  - ${r}`).join('\n')}`
        : `No model in ${config.modelStore}: expected <name>/<version>/ folders (model.json + metadata.json)`,
    );
  }
  models.startWatching(config.pollSeconds * 1000);

  // Per service, not process-global: several services in one process keep their own.
  const bodyBudget = new BodyBudget(config.maxInflightBytes);
  const metrics = createServiceMetrics({ pool, models, bodies: bodyBudget });
  const context: HandlerContext = {
    models,
    maxBatchInstances: config.maxBatchInstances,
    spec: { document: spec.document, yamlText: spec.yamlText },
    routeModels: config.routeModels,
    lifecycle: { draining: false },
    metrics: metrics.source,
  };
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
  return { app, models, pool, backend: pool.backend, lifecycle, close };
}
