import { Gauge, type Registry } from 'prom-client';
import type { ModelManager, VersionState } from '../inference/manager';
import type { WorkerPool } from '../inference/worker-pool';

/** Every lifecycle state, so a version's state series all exist (0 or 1) and `== 0` alerts work. */
const STATES: readonly VersionState[] = ['LOADING', 'AVAILABLE', 'UNLOADING', 'END'];

export interface GaugeSources {
  pool: Pick<WorkerPool, 'queueDepths' | 'size'>;
  models: Pick<ModelManager, 'names' | 'versionStatus'>;
  /** Request bodies held in memory (src/api/inflight.ts BodyBudget). */
  bodies: { readonly heldBytes: number; readonly maxBytes: number };
}

/** `name/version` (WorkerPool.queueDepths keys) as labels; a model name holds no slash, a version is last. */
function versionLabels(key: string): { model: string; version: string } {
  const slash = key.lastIndexOf('/');
  return { model: key.slice(0, slash), version: key.slice(slash + 1) };
}

/**
 * Gauges read at scrape time from the pool and the manager, rather than kept up to date on every
 * change: the values are then never stale, and nothing is added to the request path. Each is
 * reset before it is filled, so a version that left (unloaded, removed from the store) leaves
 * the output too.
 */
export function registerStateGauges(registry: Registry, { pool, models, bodies }: GaugeSources): void {
  const registers = [registry];
  new Gauge({
    name: 'specserve_inference_queue_depth',
    help: "Inputs waiting in a model version's batching queue (not yet sent to a worker).",
    labelNames: ['model', 'version'],
    registers,
    collect() {
      this.reset();
      for (const [key, depth] of pool.queueDepths()) this.set(versionLabels(key), depth);
    },
  });
  new Gauge({
    name: 'specserve_model_version_state',
    help: 'Lifecycle state of each model version the server knows (TF Serving states): 1 for its current state, 0 for the others.',
    labelNames: ['model', 'version', 'state'],
    registers,
    collect() {
      this.reset();
      for (const model of models.names()) {
        for (const status of models.versionStatus(model)) {
          for (const state of STATES) this.set({ model, version: String(status.version), state }, status.state === state ? 1 : 0);
        }
      }
    },
  });
  new Gauge({
    name: 'specserve_http_body_bytes_in_flight',
    help: 'Bytes of request bodies held by the requests being served; a request that would pass MAX_INFLIGHT_BYTES gets 503.',
    registers,
    collect() {
      this.set(bodies.heldBytes);
    },
  });
  new Gauge({
    name: 'specserve_http_body_bytes_limit',
    help: 'MAX_INFLIGHT_BYTES: most bytes of request bodies held at once.',
    registers,
    collect() {
      this.set(bodies.maxBytes);
    },
  });
  new Gauge({
    name: 'specserve_inference_workers',
    help: 'Inference workers (WORKERS per serving thread; with WORKERS=0, one inline worker per serving thread); one that died counts while it is being replaced.',
    registers,
    collect() {
      this.set(pool.size);
    },
  });
}
