/**
 * The messages between the main thread (server.ts, serving-threads.ts) and the serving threads
 * (serving-thread-main.ts). Each serving thread runs the whole service (app, manager, pool); the
 * main thread holds what the process has once: the planner, signals, the sum of the metrics.
 */
import type { BackendName } from '../config';
import type { EngineName } from '../inference/engines/engine';
import type { LoadPlan } from '../inference/engines/plan';
import type { MetricsJson } from '../metrics/aggregate';
import type { StoredVersion } from '../model-store/repository';

/** Given to a serving thread at start (`workerData`). */
export interface ServingInit {
  /** 1, 2, ... */
  index: number;
  /** Whether the process has several serving threads (log lines then say which). */
  several: boolean;
  /**
   * The listening socket of the first serving thread, for the others to accept on. The first has
   * none: it binds PORT and HOST (and GRPC_PORT) itself.
   */
  fd?: number;
  /** BodyBudget.shared of the process. */
  bodies: SharedArrayBuffer;
  /** The planner's TF.js backend. */
  backend: BackendName;
}

export type ToServing =
  | { type: 'planned'; id: number; plan: LoadPlan }
  | { type: 'plan-failed'; id: number; error: string }
  /** Send this thread's metrics (`metrics-json`). */
  | { type: 'collect'; id: number }
  /** The answer to this thread's `scrape`: the whole process's metrics. */
  | { type: 'scraped'; id: number; text: string }
  /** Every serving thread has loaded its models: the process is ready. */
  | { type: 'all-loaded' }
  /** Read the model store now (SIGHUP). */
  | { type: 'reconcile' }
  /** Shut down (src/shutdown.ts); answer `draining` at once, `drained` when done. */
  | { type: 'drain'; graceMs: number };

export type FromServing =
  | { type: 'plan'; id: number; stored: StoredVersion; engine: EngineName | undefined }
  | { type: 'metrics-json'; id: number; metrics: MetricsJson }
  | { type: 'scrape'; id: number }
  /** The first thread's port is open: its descriptor, for the others. */
  | { type: 'listening'; fd: number }
  /** The first read of the store is done: the versions this thread serves. */
  | { type: 'loaded'; versions: string[] }
  /** Start-up failed (the spec, a handler, the port, or no model could load): the process exits 1. */
  | { type: 'failed'; error: string }
  /** The answer to `drain`, at once: this thread will not start listening from now on. */
  | { type: 'draining' }
  | { type: 'drained'; clean: boolean };
