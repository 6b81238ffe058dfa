import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { log } from '../log';
import { type ModelSource, readModelConfig } from './model-config';
import { materialiseSource, planSource, type SourceOptions } from './remote-source';
import { MODEL_NAME } from './repository';

/** Why a model's source could not become its version folder. */
export interface SourceFailure {
  /** The version the source was to become; undefined when config.yaml itself was refused. */
  version?: number;
  message: string;
}

/** What one pass over the store's sources did. */
export interface SourceReport {
  /** By model name: sources that could not be fetched (the model keeps what it had). */
  errors: Map<string, SourceFailure>;
  /** `name/version` folders replaced by a different sha256 in this pass: a loaded copy is stale. */
  replaced: Set<string>;
}

/** Run by the manager at the start of every reconcile, before it scans the store. */
export type FetchSources = (store: string) => Promise<SourceReport>;

export interface SourceSyncOptions extends SourceOptions {
  /**
   * A failed fetch is tried again when config.yaml's text changes, or else after a back-off that
   * starts at `firstMs` (default 60 s) and doubles per failure up to `maxMs` (default 1 h): a
   * mistyped hash is not re-downloaded every poll, and a server that was down is tried again
   * without anyone touching the config.
   */
  retry?: { firstMs: number; maxMs: number };
  /** The clock, for tests. */
  now?: () => number;
}

interface Failed {
  configHash: string;
  attempts: number;
  retryAt: number;
  failure: SourceFailure;
}

function modelNames(store: string): string[] {
  try {
    return readdirSync(store, { withFileTypes: true })
      .filter((e) => e.isDirectory() && MODEL_NAME.test(e.name))
      .map((e) => e.name);
  } catch {
    return []; // the manager's scan reports an unreadable store
  }
}

function configHash(modelDir: string): string | undefined {
  try {
    return createHash('sha256').update(readFileSync(path.join(modelDir, 'config.yaml'))).digest('hex');
  } catch {
    return undefined;
  }
}

/**
 * The manager's source step: for every `<store>/<name>/config.yaml` with a `source:`, makes the
 * version folder when it is missing or was made from another sha256 (remote-source.ts), models in
 * parallel. Keeps the failures between passes for the retry rule above. Never throws; a refused
 * config.yaml is reported as a failure without a version.
 */
export function createSourceSync(options: SourceSyncOptions): FetchSources {
  const failed = new Map<string, Failed>();
  const retry = options.retry ?? { firstMs: 60_000, maxMs: 3_600_000 };
  const now = options.now ?? Date.now;

  async function syncModel(store: string, name: string, report: SourceReport): Promise<void> {
    const modelDir = path.join(store, name);
    const hash = configHash(modelDir);
    let source: ModelSource | undefined;
    try {
      source = hash === undefined ? undefined : readModelConfig(modelDir).source;
    } catch (e) {
      // The manager's scan reports this too, but only for a model with a version folder; a model
      // that is so far only a config.yaml would otherwise fail without a word.
      failed.delete(name);
      report.errors.set(name, { message: (e as Error).message });
      return;
    }
    if (!source || hash === undefined) {
      failed.delete(name);
      return;
    }
    const plan = planSource(store, name, source);
    if (plan.action === 'keep') {
      failed.delete(name);
      return;
    }
    const where = `${path.join(modelDir, 'config.yaml')}: source version ${source.version}`;
    if (plan.action === 'refuse') {
      report.errors.set(name, { version: source.version, message: `${where}: ${plan.reason}` });
      return;
    }
    const previous = failed.get(name);
    if (previous && previous.configHash === hash && now() < previous.retryAt) {
      report.errors.set(name, previous.failure);
      return;
    }
    const started = now();
    log.info('model source fetching', { model: name, version: source.version, url: source.url, replaces: plan.replaces });
    try {
      const done = await materialiseSource(store, name, source, options);
      failed.delete(name);
      if (done.replaced) report.replaced.add(`${name}/${source.version}`);
      log.info('model source ready', { model: name, version: source.version, how: done.how, ms: now() - started });
    } catch (e) {
      const attempts = previous?.configHash === hash ? previous.attempts + 1 : 1;
      const waitMs = Math.min(retry.maxMs, retry.firstMs * 2 ** (attempts - 1));
      const failure = {
        version: source.version,
        message: `${where}: ${(e as Error).message} (tried again when config.yaml changes, or in ${Math.round(waitMs / 1000)} s)`,
      };
      failed.set(name, { configHash: hash, attempts, retryAt: now() + waitMs, failure });
      report.errors.set(name, failure);
      // Each attempt; the manager logs the model's error once, when it changes.
      log.warn('model source fetch failed', { model: name, version: source.version, url: source.url, attempts, error: (e as Error).message });
    }
  }

  return async (store) => {
    const report: SourceReport = { errors: new Map(), replaced: new Set() };
    const names = modelNames(store);
    for (const name of failed.keys()) if (!names.includes(name)) failed.delete(name);
    await Promise.all(names.map((name) => syncModel(store, name, report)));
    return report;
  };
}
