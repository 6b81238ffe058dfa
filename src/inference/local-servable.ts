import { type ImageLimits, prepareInput } from '../images';
import { readModelFiles } from '../model-store/files';
import { type ModelMetadata, outputUnits } from '../model-store/metadata';
import type { StoredVersion } from '../model-store/repository';
import type { EngineChoice, EngineModel, EngineName } from './engines/engine';
import { loadOnnx } from './engines/onnx';
import type { LoadPlan } from './engines/plan';
import type { ModelInput, Servable } from './servable';

/**
 * A model version loaded into this thread by its engine (ONNX Runtime or TensorFlow.js). Inside
 * the worker pool each worker holds one per version; tools, benchmarks and tests use it directly.
 * Built only by `loadLocalServable`, so one that exists can answer.
 */
export class LocalServable implements Servable {
  /** Values per input example (product of the input shape). */
  readonly inputSize: number;

  constructor(
    readonly name: string,
    readonly version: number,
    readonly metadata: ModelMetadata,
    private readonly model: EngineModel,
    readonly engine: EngineChoice,
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

  /** One engine call for a whole batch of prepared inputs; one output row per input. */
  async run(prepared: readonly Float32Array[]): Promise<Float32Array[]> {
    if (prepared.length === 0) return [];
    const batch = new Float32Array(prepared.length * this.inputSize);
    prepared.forEach((input, i) => batch.set(input, i * this.inputSize));
    return this.model.run(batch, prepared.length);
  }

  dispose(): void {
    this.model.dispose();
  }
}

export interface LocalLoadOptions {
  /** config.yaml's `engine:`; by default ONNX where the version can run there. */
  engine?: EngineName;
  /** A plan made elsewhere (the pool plans once, in one worker); planned here when absent. */
  plan?: LoadPlan;
  /** ONNX Runtime intra-op threads for this thread's session (default 1). */
  threads?: number;
}

/**
 * Loads a version folder into this thread: plans its engine (see engines/plan.ts) unless given a
 * plan, loads it there, checks the output width against metadata.json and warms it up (the first
 * run builds kernels) before returning.
 */
export async function loadLocalServable(stored: StoredVersion, imageLimits: ImageLimits, options: LocalLoadOptions = {}): Promise<LocalServable> {
  const files = await readModelFiles(stored.dir);
  const { metadata } = files;
  let plan = options.plan;
  let model: EngineModel | undefined;
  if (!plan) {
    // Loaded on demand: planning and TF.js bring TensorFlow.js (~30 MB per thread) along.
    const { planVersion } = await import('./engines/plan');
    const planned = await planVersion(files, stored.dir, options.engine);
    plan = planned.plan;
    model = planned.tfjs;
  }
  try {
    if (!model) {
      if (plan.name === 'onnx') {
        model = await loadOnnx(plan.graph, metadata.input.shape, { threads: options.threads ?? 1 }).catch((e: unknown) => {
          throw new Error(`${stored.dir}: ONNX Runtime cannot load the model: ${(e as Error).message.split('\n')[0]}`);
        });
      } else {
        if (files.format !== 'tfjs-layers') throw new Error(`${stored.dir}: planned for TF.js but holds an ONNX file`);
        const { loadTfjs } = await import('./engines/tfjs');
        model = await loadTfjs(files.artifacts, metadata.input.shape);
      }
    }
    const servable = new LocalServable(stored.name, stored.version, metadata, model, { name: plan.name, reason: plan.reason }, imageLimits);
    const [row] = await servable.run([new Float32Array(servable.inputSize)]).catch((e: unknown) => {
      throw new Error(`${stored.dir}: the model fails on a blank input (${plan.name}): ${(e as Error).message.split('\n')[0]}`);
    });
    if (row!.length !== outputUnits(metadata)) {
      throw new Error(`${stored.dir}/metadata.json: ${metadata.labels.length} labels (output.kind ${metadata.output.kind}) but the model outputs ${row!.length} values per input`);
    }
    return servable;
  } catch (e) {
    model?.dispose();
    throw e;
  }
}
