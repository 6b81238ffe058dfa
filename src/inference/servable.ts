import type { ModelMetadata } from '../model-store/metadata';
import type { EngineChoice } from './engines/engine';

/**
 * One example for a model: numbers already shaped like its input (TF Serving / KServe tensors),
 * or encoded image bytes that the model's own preprocessing brings to its input.
 */
export type ModelInput = { tensor: Float32Array } | { image: Uint8Array };

/**
 * One loaded, warmed-up model version: what requests run on (TF Serving's "servable"). The HTTP
 * side holds these; where the work happens (a worker thread, or this thread in tools and tests)
 * is the implementation's business.
 */
export interface Servable {
  readonly name: string;
  readonly version: number;
  readonly metadata: ModelMetadata;
  /** Which engine runs this version, and why. */
  readonly engine: EngineChoice;
  /**
   * One output row per input, in order. Rejects with the typed error of the first input that
   * cannot be used (an image that does not decode, a wrong size) or of the engine (queue full,
   * deadline passed).
   */
  predict(inputs: readonly ModelInput[]): Promise<Float32Array[]>;
  /** Frees the weights; called by the manager once no request holds this version. */
  dispose(): void;
}
