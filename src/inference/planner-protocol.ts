/**
 * The messages between the pool (main thread) and its planning thread (planner-main.ts). A
 * converted graph travels as a transferred ArrayBuffer.
 */
import type { BackendName } from '../config';
import type { StoredVersion } from '../model-store/repository';
import type { EngineName } from './engines/engine';
import type { LoadPlan } from './engines/plan';

/** Given to the planning thread at start (`workerData`): TFJS_BACKEND, if forced. */
export interface PlannerInit {
  backend: BackendName | undefined;
}

export type ToPlanner =
  | { type: 'plan'; id: number; stored: StoredVersion; engine: EngineName | undefined }
  /** Nothing left to plan: free everything and end the thread. */
  | { type: 'stop' };

export type FromPlanner =
  | { type: 'ready'; backend: BackendName }
  | { type: 'init-failed'; error: string }
  | { type: 'planned'; id: number; plan: LoadPlan }
  | { type: 'plan-failed'; id: number; error: string };
