import * as tf from '@tensorflow/tfjs';
import { type EngineModel, splitRows } from './engine';

/**
 * The TensorFlow.js engine: a layers model in this thread's backend (chosen once per thread by
 * ../backend.ts). TF.js stays the training engine and the fallback for what ONNX cannot run.
 */
export class TfjsModel implements EngineModel {
  constructor(
    /** The loaded model; the converter reads its layers, so it is shared, not copied. */
    readonly model: tf.LayersModel,
    private readonly inputShape: readonly number[],
  ) {}

  async run(batch: Float32Array, n: number): Promise<Float32Array[]> {
    if (n === 0) return [];
    const output = tf.tidy(() => this.model.predict(tf.tensor(batch, [n, ...this.inputShape], 'float32')) as tf.Tensor);
    try {
      return splitRows((await output.data()) as Float32Array, n);
    } finally {
      output.dispose();
    }
  }

  dispose(): void {
    this.model.dispose();
  }
}

/** Loads TF.js layers artifacts (model.json + shards, or Keras files read into the same form). */
export async function loadTfjs(artifacts: tf.io.ModelArtifacts, inputShape: readonly number[]): Promise<TfjsModel> {
  return new TfjsModel(await tf.loadLayersModel(tf.io.fromMemory(artifacts)), inputShape);
}
