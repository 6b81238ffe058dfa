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

/** TF Serving's TensorInfo as proto3 JSON writes it (int64 sizes as strings); gRPC encodes the same object. */
export interface TfTensorInfo {
  dtype: 'DT_FLOAT';
  tensor_shape: { dim: { size: string; name: string }[]; unknown_rank: false };
  name: string;
}

export interface TfSignatureDef {
  inputs: Record<string, TfTensorInfo>;
  outputs: Record<string, TfTensorInfo>;
  method_name: string;
}

function tfTensorInfo({ name, shape }: TensorSpec): TfTensorInfo {
  return { dtype: 'DT_FLOAT', tensor_shape: { dim: shape.map((size) => ({ size: String(size), name: '' })), unknown_rank: false }, name: `${name}:0` };
}

/** The model's one signature as TF Serving's GetModelMetadata describes it (SignatureDef). */
export function tfSignatureDef(metadata: Pick<ModelMetadata, 'input' | 'output' | 'labels'>): TfSignatureDef {
  const { inputs, outputs } = modelSignature(metadata);
  return {
    inputs: Object.fromEntries(inputs.map((t) => [t.name, tfTensorInfo(t)])),
    outputs: Object.fromEntries(outputs.map((t) => [t.name, tfTensorInfo(t)])),
    method_name: 'tensorflow/serving/predict',
  };
}
