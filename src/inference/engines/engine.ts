/**
 * What runs a model version (Triton's "backend"): the worker pool, batching and protocols know no
 * framework; each engine is one module behind this interface, and every engine passes the one
 * contract suite in engine.contract.ts.
 */

/** `onnx`: onnxruntime-node, CPU execution provider. `tfjs`: TensorFlow.js (tfjs-node where installed, else wasm). */
export type EngineName = 'onnx' | 'tfjs';
export const ENGINE_NAMES: readonly EngineName[] = ['onnx', 'tfjs'];

/** Which engine serves a version and why (reported by the log, GET /models and the metadata routes). */
export interface EngineChoice {
  name: EngineName;
  reason: string;
}

/** The protocol name of an engine, as Triton reports it in model metadata (`platform`). */
export function enginePlatform(name: EngineName): string {
  return name === 'onnx' ? 'onnxruntime_onnx' : 'tensorflowjs';
}

/** An engine choice as the HTTP answers report it: name, Triton's platform name, and why. */
export function engineReport({ name, reason }: EngineChoice): EngineChoice & { platform: string } {
  return { name, platform: enginePlatform(name), reason };
}

/** A model loaded by an engine into this thread, ready to run batches. */
export interface EngineModel {
  /**
   * Runs one batch: `n` inputs back to back, each in the model's metadata shape (height, width,
   * channels for images) -> one output row per input, in order.
   */
  run(batch: Float32Array, n: number): Promise<Float32Array[]>;
  /** Frees the weights; the model must not run afterwards. */
  dispose(): void;
}

/** Splits a flat [n, width] output into rows (copies: each row's buffer is transferred on its own). */
export function splitRows(values: Float32Array, n: number): Float32Array[] {
  const width = values.length / n;
  return Array.from({ length: n }, (_, i) => values.slice(i * width, (i + 1) * width));
}
