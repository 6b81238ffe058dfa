import { BadRequest } from '../errors/errors';

/** A tensor read from JSON: its shape and its values in row-major order. */
export interface FlatTensor {
  shape: number[];
  values: Float32Array;
}

/** Most nesting levels a tensor in a request may have. */
export const MAX_RANK = 32;

/** The largest finite FP32 value: a number that rounds past it becomes Infinity in the tensor. */
export const FP32_MAX = 3.4028234663852886e38;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 20 ? `${value.slice(0, 20)}...` : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * A nested JSON list of numbers (or a bare number) -> shape and values. The shape is read from the
 * first element at each depth; every sibling must agree (no ragged lists) and every leaf must be a
 * finite number (JSON has no NaN/Infinity, and strings such as "NaN" are refused, not coerced).
 */
export function flattenNested(value: unknown, where: string): FlatTensor {
  const shape: number[] = [];
  for (let node: unknown = value; Array.isArray(node); node = node[0]) {
    // Deeper than any model input: refused before the recursive walk could exhaust the stack.
    if (shape.length === MAX_RANK) throw new BadRequest(`${where}: lists nested deeper than ${MAX_RANK} levels.`);
    shape.push(node.length);
  }
  // Collected as they come rather than preallocated: the product of the first entries' lengths is
  // not bounded by the body's size when the lists are ragged.
  const values: number[] = [];
  const walk = (node: unknown, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (typeof node !== 'number' || !Number.isFinite(node)) {
        throw new BadRequest(`${where}${path}: expected a finite number, got ${describe(node)}.`);
      }
      if (!Number.isFinite(Math.fround(node))) {
        throw new BadRequest(`${where}${path}: ${node} is outside the FP32 range (at most ${FP32_MAX} in magnitude).`);
      }
      values.push(node);
      return;
    }
    if (!Array.isArray(node) || node.length !== shape[depth]) {
      const got = Array.isArray(node) ? `${node.length} elements` : describe(node);
      throw new BadRequest(`${where}${path}: ragged list: expected ${shape[depth]} elements (as in the first entry at this depth), got ${got}.`);
    }
    node.forEach((child, i) => walk(child, depth + 1, `${path}[${i}]`));
  };
  walk(value, 0, '');
  return { shape, values: Float32Array.from(values) };
}

/**
 * Numbers that arrive already flat (gRPC tensors: float or double fields, raw little-endian
 * bytes) -> FP32 values; 400 for NaN, Infinity or a value outside the FP32 range, as
 * `flattenNested` refuses them in JSON (raw bytes can spell NaN and Infinity).
 */
export function toFiniteFloat32(values: ArrayLike<number>, where: string): Float32Array {
  const out = values instanceof Float32Array ? values : Float32Array.from(values);
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i]!)) {
      const given = values[i]!;
      throw new BadRequest(
        Number.isFinite(given)
          ? `${where}[${i}]: ${given} is outside the FP32 range (at most ${FP32_MAX} in magnitude).`
          : `${where}[${i}]: expected a finite number, got ${given}.`,
      );
    }
  }
  return out;
}

/**
 * The shapes accepted for one example of an input: its own shape, and for a single-channel input
 * (last axis 1) the same shape without that axis, e.g. 28x28 for [28, 28, 1]. That second form is
 * unambiguous: it holds the same values in the same order, so only the nesting differs.
 */
export function exampleShapes(inputShape: readonly number[]): number[][] {
  const shapes = [[...inputShape]];
  if (inputShape.length > 1 && inputShape[inputShape.length - 1] === 1) shapes.push(inputShape.slice(0, -1));
  return shapes;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** 400 unless `got` is an accepted shape for one example of the input. */
export function checkExampleShape(got: readonly number[], inputShape: readonly number[], where: string): void {
  const accepted = exampleShapes(inputShape);
  if (accepted.some((shape) => sameShape(shape, got))) return;
  throw new BadRequest(
    `${where}: wrong shape: expected ${accepted.map(formatShape).join(' or ')} per example, got ${formatShape(got)}.`,
  );
}

/** One example given as a nested list -> the model's input values. */
export function parseExample(value: unknown, inputShape: readonly number[], where: string): Float32Array {
  const tensor = flattenNested(value, where);
  checkExampleShape(tensor.shape, inputShape, where);
  return tensor.values;
}

/** 400 unless `shape` is [batch >= 1, ...an accepted example shape]; returns the batch size. */
export function checkBatchShape(shape: readonly number[], inputShape: readonly number[], where: string): number {
  const [count, ...example] = shape;
  if (count === undefined || count < 1 || example.length === 0) {
    throw new BadRequest(`${where}: wrong shape: expected [batch, ${exampleShapes(inputShape)[0]!.join(', ')}], got ${formatShape(shape)}.`);
  }
  checkExampleShape(example, inputShape, where);
  return count;
}

/** A batch tensor (first axis = examples, see `checkBatchShape`) -> one input per example. */
export function splitBatch({ shape, values }: FlatTensor, inputShape: readonly number[], where: string): Float32Array[] {
  const count = checkBatchShape(shape, inputShape, where);
  const size = values.length / count;
  return Array.from({ length: count }, (_, i) => values.slice(i * size, (i + 1) * size));
}

/**
 * 400 unless every output row is finite. FP32 inputs within range can still overflow inside the
 * model (e.g. values near 3.4e38 give NaN scores), which JSON cannot carry (it would write null);
 * `where(i)` names the example of row i.
 */
export function checkFiniteOutputs(rows: readonly Float32Array[], where: (i: number) => string): void {
  const i = rows.findIndex((row) => !row.every(Number.isFinite));
  if (i >= 0) {
    throw new BadRequest(
      `${where(i)}: the model's output is not a number (NaN or Infinity): the input values are too large for FP32 arithmetic. Send values in the range the model was trained on.`,
    );
  }
}
