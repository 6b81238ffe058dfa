import { type ModelMetadata, outputUnits } from '../model-store/metadata';

/** One tensor of a model's serving signature; -1 is the batch axis, of any size. */
export interface TensorSpec {
  name: string;
  shape: number[];
}

export interface ModelSignature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

/**
 * What a model takes and gives, as both protocols describe it: one float32 input (batch first),
 * one float32 output (one score per label; one unit for `binary-sigmoid`). Both TF Serving metadata and KServe model metadata
 * are renderings of this.
 */
export function modelSignature({ input, output, labels }: Pick<ModelMetadata, 'input' | 'output' | 'labels'>): ModelSignature {
  return {
    inputs: [{ name: input.name, shape: [-1, ...input.shape] }],
    outputs: [{ name: output.name, shape: [-1, outputUnits({ output, labels })] }],
  };
}
