import type { Express } from 'express';
import type { HandlerContext } from '../handlers/context';
import { createApp } from './api/app';
import { resolveOperations } from './api/resolver';
import { listOperations, loadSpec } from './api/spec';
import type { BackendName, Config } from './config';
import { DEFAULT_IMAGE_LIMITS } from './images';
import { initBackend } from './inference/backend';
import { ModelManager } from './inference/manager';
import { HANDLERS_DIR, SPEC_FILE } from './paths';

export interface Service {
  app: Express;
  models: ModelManager;
  backend: BackendName;
}

/**
 * Everything before `listen()`, in the order that fails fastest: the spec and its handlers
 * (cheap, and a bad one is a programming error), then the backend, then the models.
 * Any failure throws with a message saying what to fix.
 */
export async function startService(config: Config, specFile = SPEC_FILE, handlersDir = HANDLERS_DIR): Promise<Service> {
  const spec = loadSpec(specFile);
  const operations = resolveOperations(listOperations(spec.document), handlersDir);
  const backend = await initBackend(config.backend);

  const models = new ModelManager(config.modelStore);
  await models.reconcile();
  // One bad model must not stop the others; but a server with nothing to serve is a mistake.
  if (models.list().length === 0) {
    const reasons = models
      .names()
      .flatMap((name) => [models.modelError(name), ...models.versionStatus(name).map((s) => s.error && `${name}/${s.version}: ${s.error}`)])
      .filter(Boolean);
    throw new Error(
      reasons.length > 0
        ? `No model could be loaded from ${config.modelStore}:\n${reasons.map((r) => `  - ${r}`).join('\n')}`
        : `No model in ${config.modelStore}: expected <name>/<version>/ folders (model.json + metadata.json)`,
    );
  }
  models.startWatching(config.pollSeconds * 1000);

  const context: HandlerContext = {
    models,
    imageLimits: { ...DEFAULT_IMAGE_LIMITS, maxPixels: config.maxImagePixels },
    maxBatchInstances: config.maxBatchInstances,
    spec: { document: spec.document, yamlText: spec.yamlText },
    routeModels: config.routeModels,
  };
  const app = createApp({ spec, operations, context, maxUploadBytes: config.maxUploadBytes, validateResponses: config.validateResponses });
  return { app, models, backend };
}
