import { BadRequest } from '../errors/errors';
import type { ModelInput } from '../inference/servable';
import type { ModelMetadata } from '../model-store/metadata';
import { checkBatchSize } from '../protocols/limits';
import { checkBatchShape, formatShape, splitBatch, toFiniteFloat32 } from '../protocols/tensor';

/** tensorflow.TensorProto as the loader gives it (snake_case fields, defaults filled, int64 as numbers). */
export interface TensorProto {
  dtype: string;
  tensor_shape: { dim: { size: number; name: string }[]; unknown_rank: boolean } | null;
  version_number?: number;
  tensor_content: Buffer;
  float_val: number[];
  double_val: number[];
  string_val: Buffer[];
}

/** DataTypes a request tensor may have: numbers the model reads as FP32, or encoded images. */
const ACCEPTED = 'DT_FLOAT (float_val or tensor_content), DT_DOUBLE (double_val or tensor_content) or DT_STRING (encoded images, one per example)';

/** Bytes of one element in tensor_content, little-endian, as TensorFlow writes them. */
const CONTENT_BYTES: Readonly<Record<string, number>> = { DT_FLOAT: 4, DT_DOUBLE: 8 };

function shapeOf(tensor: TensorProto, where: string): number[] {
  if (tensor.tensor_shape?.unknown_rank) throw new BadRequest(`${where}: tensor_shape has unknown_rank; send the shape.`);
  return (tensor.tensor_shape?.dim ?? []).map((d) => d.size);
}

/** The values of a numeric tensor, `count` of them, from tensor_content or the typed field. */
function numericValues(tensor: TensorProto, count: number, where: string): ArrayLike<number> {
  const width = CONTENT_BYTES[tensor.dtype]!;
  const content = tensor.tensor_content;
  if (content.length > 0) {
    if (content.length !== count * width) {
      throw new BadRequest(`${where}: tensor_content holds ${content.length} bytes; ${count} ${tensor.dtype} values need ${count * width}.`);
    }
    // Copied: the message's buffer need not be aligned for a typed-array view.
    const bytes = new Uint8Array(content);
    return width === 4 ? new Float32Array(bytes.buffer) : new Float64Array(bytes.buffer);
  }
  const values = tensor.dtype === 'DT_FLOAT' ? tensor.float_val : tensor.double_val;
  // TensorProto: one value given is repeated to fill the shape.
  if (values.length === 1 && count > 1) return new Array<number>(count).fill(values[0]!);
  if (values.length !== count) {
    const field = tensor.dtype === 'DT_FLOAT' ? 'float_val' : 'double_val';
    throw new BadRequest(`${where}: shape ${formatShape(shapeOf(tensor, where))} needs ${count} values; ${field} holds ${values.length}.`);
  }
  return values;
}

/**
 * One TF Serving request tensor -> one model input per example. Numeric tensors have the batch
 * first ([batch, ...input shape], or without a single channel axis, as in REST); their shape and
 * the batch limit are checked before any value is read. DT_STRING tensors ([batch] or a scalar)
 * hold encoded images that the model's own preprocessing brings to its input, as REST's b64.
 */
export function readTensorInputs(tensor: TensorProto, model: Pick<ModelMetadata, 'input'>, maxBatch: number, where: string): ModelInput[] {
  const shape = shapeOf(tensor, where);
  if (tensor.dtype === 'DT_STRING') {
    if (shape.length > 1) throw new BadRequest(`${where}: a DT_STRING tensor of images has shape [batch] (or is a scalar); got ${formatShape(shape)}.`);
    const count = shape.length === 0 ? 1 : shape[0]!;
    checkBatchSize(count, maxBatch);
    if (count < 1 || tensor.string_val.length !== count) {
      throw new BadRequest(`${where}: shape ${formatShape(shape)} needs ${count} string_val entries; it holds ${tensor.string_val.length}.`);
    }
    return tensor.string_val.map((bytes, i) => {
      if (bytes.length === 0) throw new BadRequest(`${where}.string_val[${i}]: empty; expected the bytes of an encoded image.`);
      return { image: bytes };
    });
  }
  if (!(tensor.dtype in CONTENT_BYTES)) throw new BadRequest(`${where}: dtype ${tensor.dtype} is not supported; send ${ACCEPTED}.`);
  checkBatchSize(checkBatchShape(shape, model.input.shape, where), maxBatch);
  const count = shape.reduce((a, b) => a * b, 1);
  const values = toFiniteFloat32(numericValues(tensor, count, where), `${where}.values`);
  return splitBatch({ shape, values }, model.input.shape, where).map((row) => ({ tensor: row }));
}

/** Output rows -> a DT_FLOAT TensorProto [batch, units], values in float_val as TF Serving answers. */
export function outputTensor(rows: readonly Float32Array[]): { dtype: 'DT_FLOAT'; tensor_shape: { dim: { size: number }[] }; float_val: number[] } {
  const units = rows[0]?.length ?? 0;
  const values = new Array<number>(rows.length * units);
  rows.forEach((row, i) => {
    for (let j = 0; j < units; j++) values[i * units + j] = row[j]!;
  });
  return { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: rows.length }, { size: units }] }, float_val: values };
}
