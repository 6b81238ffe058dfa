import * as tf from '@tensorflow/tfjs';
import { type ImageLimits, prepareInput } from '../images';
import { type ModelMetadata, outputUnits } from '../model-store/metadata';
import { readModelFiles } from '../model-store/files';
import type { StoredVersion } from '../model-store/repository';
import type { ModelInput, Servable } from './servable';

/**
 * A model version loaded into this thread's TensorFlow.js backend. Inside the worker pool each
 * worker holds one per version; tools, benchmarks and tests use it directly.
 * Built only by `loadLocalServable`, so one that exists can answer.
 */
export class LocalServable implements Servable {
  /** Values per input example (product of the input shape). */
  readonly inputSize: number;

  constructor(
    readonly name: string,
    readonly version: number,
    readonly metadata: ModelMetadata,
    private readonly model: tf.LayersModel,
    private readonly imageLimits: ImageLimits,
  ) {
    this.inputSize = metadata.input.shape.reduce((a, b) => a * b, 1);
  }

  /** One input -> its input tensor values: an image through the model's preprocessing, a tensor checked for size. */
  async prepare(input: ModelInput): Promise<Float32Array> {
    if ('image' in input) return prepareInput(input.image, this.metadata, this.imageLimits);
    if (input.tensor.length !== this.inputSize) {
      throw new Error(`${this.name}:${this.version} expects ${this.inputSize} values per input, got ${input.tensor.length}`);
    }
    return input.tensor;
  }

  async predict(inputs: readonly ModelInput[]): Promise<Float32Array[]> {
    const prepared: Float32Array[] = [];
    for (const input of inputs) prepared.push(await this.prepare(input));
    return this.run(prepared);
  }

  /** One predict call for a whole batch of prepared inputs; one output row per input. */
  async run(prepared: readonly Float32Array[]): Promise<Float32Array[]> {
    if (prepared.length === 0) return [];
    const batch = new Float32Array(prepared.length * this.inputSize);
    prepared.forEach((input, i) => batch.set(input, i * this.inputSize));
    const output = tf.tidy(() => {
      const x = tf.tensor(batch, [prepared.length, ...this.metadata.input.shape], 'float32');
      return this.model.predict(x) as tf.Tensor;
    });
    try {
      const values = (await output.data()) as Float32Array;
      const width = values.length / prepared.length;
      return prepared.map((_, i) => values.slice(i * width, (i + 1) * width));
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
 * Loads a version folder into this thread's backend, checks that the weights agree with
 * metadata.json (input shape, output units), and warms it up (the first predict compiles
 * kernels) before returning.
 */
export async function loadLocalServable(stored: StoredVersion, imageLimits: ImageLimits): Promise<LocalServable> {
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
    const servable = new LocalServable(stored.name, stored.version, metadata, model, imageLimits);
    await servable.run([new Float32Array(servable.inputSize)]);
    return servable;
  } catch (e) {
    model.dispose();
    throw e;
  }
}
