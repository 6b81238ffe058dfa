/**
 * The messages between the main thread and the other serving threads (serving-thread-main.ts).
 * Each serving thread runs the whole service (app, manager, pool); the main thread holds what
 * the process has once: the listening socket, the planner, signals, gRPC.
 */
import type { BackendName } from '../config';
import type { EngineName } from '../inference/engines/engine';
import type { LoadPlan } from '../inference/engines/plan';
import type { MetricsJson } from '../metrics/aggregate';
import type { StoredVersion } from '../model-store/repository';

/** Given to a serving thread at start (`workerData`). */
export interface ServingInit {
  /** 1, 2, ...: the main thread is serving thread 0. */
  index: number;
  /** The main thread's listening socket: this thread accepts on it too. */
  fd: number;
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
  /** Read the model store now (SIGHUP). */
  | { type: 'reconcile' }
  /** Shut down (src/shutdown.ts, without closing the shared listener); answer `drained`. */
  | { type: 'drain'; graceMs: number };

export type FromServing =
  | { type: 'plan'; id: number; stored: StoredVersion; engine: EngineName | undefined }
  | { type: 'metrics-json'; id: number; metrics: MetricsJson }
  | { type: 'scrape'; id: number }
  /** The first read of the store is done (`loaded` settled): the versions it serves, or why none. */
  | { type: 'loaded'; versions: string[] }
  | { type: 'load-failed'; error: string }
  /** The answer to `drain`, at once: this thread will not start listening from now on. */
  | { type: 'draining' }
  | { type: 'drained'; clean: boolean };
