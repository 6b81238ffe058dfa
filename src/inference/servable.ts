import * as tf from '@tensorflow/tfjs';
import { type ModelMetadata, outputUnits } from '../model-store/metadata';
import { readModelFiles } from '../model-store/files';
import type { StoredVersion } from '../model-store/repository';

/**
 * One loaded, warmed-up model version: the thing requests run on (TF Serving's "servable").
 * Built only by `loadServable`, so a Servable that exists can answer.
 */
export class Servable {
  /** Values per input example (product of the input shape). */
  readonly inputSize: number;

  constructor(
    readonly name: string,
    readonly version: number,
    readonly metadata: ModelMetadata,
    private readonly model: tf.LayersModel,
  ) {
    this.inputSize = metadata.input.shape.reduce((a, b) => a * b, 1);
  }

  /** Runs one batch: each input holds `inputSize` values; returns one output row per input. */
  async predict(inputs: Float32Array[]): Promise<Float32Array[]> {
    for (const input of inputs) {
      if (input.length !== this.inputSize) {
        throw new Error(`${this.name}:${this.version} expects ${this.inputSize} values per input, got ${input.length}`);
      }
    }
    const batch = new Float32Array(inputs.length * this.inputSize);
    inputs.forEach((input, i) => batch.set(input, i * this.inputSize));
    const output = tf.tidy(() => {
      const x = tf.tensor(batch, [inputs.length, ...this.metadata.input.shape], 'float32');
      return this.model.predict(x) as tf.Tensor;
    });
    try {
      const values = (await output.data()) as Float32Array;
      const width = values.length / inputs.length;
      return inputs.map((_, i) => values.slice(i * width, (i + 1) * width));
    } finally {
      output.dispose();
    }
  }

  dispose(): void {
    this.model.dispose();
  }
}

function sameShape(a: readonly (number | null)[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Loads a version folder, checks that the weights agree with metadata.json (input shape, one
 * output per label), and warms it up (the first predict compiles kernels) before returning.
 */
export async function loadServable(stored: StoredVersion): Promise<Servable> {
  const { metadata, artifacts } = await readModelFiles(stored.dir);
  const where = `${stored.dir}`;
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (e) {
    throw new Error(`${where}/model.json: TensorFlow.js cannot load it: ${(e as Error).message}`);
  }
  try {
    const inputShape = model.inputs[0]?.shape.slice(1) ?? [];
    if (!sameShape(inputShape, metadata.input.shape)) {
      throw new Error(`${where}/metadata.json: input.shape [${metadata.input.shape}] does not match the model's input [${inputShape}]`);
    }
    const outputShape = model.outputs[0]?.shape.slice(1) ?? [];
    if (!sameShape(outputShape, [outputUnits(metadata)])) {
      throw new Error(`${where}/metadata.json: ${metadata.labels.length} labels (output.kind ${metadata.output.kind}) but the model outputs [${outputShape}]`);
    }
    const servable = new Servable(stored.name, stored.version, metadata, model);
    await servable.predict([new Float32Array(servable.inputSize)]);
    return servable;
  } catch (e) {
    model.dispose();
    throw e;
  }
}
