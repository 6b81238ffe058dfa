/**
 * The messages between the pool (main thread) and an inference worker. Image bytes, tensors and
 * output rows travel as transferred ArrayBuffers: moved, not copied.
 */
import type { BackendName } from '../config';
import type { ImageLimits } from '../images';
import type { StoredVersion } from '../model-store/repository';
import type { LoadPlan } from './engines/plan';
import type { ModelInput } from './servable';

/** Given to each worker at start (`workerData`). */
export interface WorkerInit {
  index: number;
  backend: BackendName | undefined;
  imageLimits: ImageLimits;
  /** ONNX Runtime intra-op threads of each session in this worker. */
  threads: number;
}

export type ToWorker =
  | { type: 'load'; key: string; stored: StoredVersion; plan: LoadPlan }
  | { type: 'unload'; key: string }
  | { type: 'run'; batchId: number; key: string; inputs: ModelInput[] }
  /** Finish the batches sent, free every model, end the thread (the pool's close). */
  | { type: 'stop' };

/** A typed error (src/errors) as data: the main thread rebuilds it, so its status survives the thread hop. */
export interface SerializedProblem {
  status: number;
  slug: string;
  title: string;
  detail: string;
  extensions: Record<string, unknown>;
  headers: Record<string, string>;
}

/** Per input: its output row, a client error (the input's own fault), or an internal failure. */
export type ItemResult = { row: Float32Array } | { problem: SerializedProblem } | { internal: string };

/** Where a batch's time went in the worker (for profiling and metrics). */
export interface BatchTimings {
  prepareMs: number;
  predictMs: number;
}

export type FromWorker =
  | { type: 'ready' }
  | { type: 'loaded'; key: string }
  | { type: 'load-failed'; key: string; error: string }
  | { type: 'result'; batchId: number; results: ItemResult[]; timings: BatchTimings };

/** The buffer of a view if the view owns all of it (so it can be transferred), else a copy that does. */
export function transferable<T extends Uint8Array | Float32Array>(view: T): { view: T; buffer: ArrayBuffer } {
  const { buffer } = view;
  if (buffer instanceof ArrayBuffer && view.byteOffset === 0 && view.byteLength === buffer.byteLength) return { view, buffer };
  // A slice of a shared pool (small Node Buffers) or of a bigger buffer: moving it would take
  // its neighbours along, so move a copy.
  const copy = view.slice() as T;
  return { view: copy, buffer: copy.buffer as ArrayBuffer };
}
