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
  const failures = await models.loadStore();
  if (failures.length > 0) {
    models.dispose();
    throw new Error(`Models failed to load:\n${failures.map((f) => `  - ${f.name}/${f.version}: ${f.error}`).join('\n')}`);
  }
  if (models.list().length === 0) {
    throw new Error(`No model in ${config.modelStore}: expected <name>/<version>/ folders (model.json + metadata.json)`);
  }

  const context: HandlerContext = {
    models,
    imageLimits: { ...DEFAULT_IMAGE_LIMITS, maxPixels: config.maxImagePixels },
    spec: { document: spec.document, yamlText: spec.yamlText },
  };
  const app = createApp({ spec, operations, context, maxUploadBytes: config.maxUploadBytes, validateResponses: config.validateResponses });
  return { app, models, backend };
}
