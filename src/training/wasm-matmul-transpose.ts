import * as tf from '@tensorflow/tfjs';
import type { BatchMatMulAttrs, KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';

/**
 * wasm's BatchMatMul is fast only without transposes: measured for a Dense(9216->128) layer at
 * batch 64, a*b takes 6 ms, transposeA 233 ms, transposeB 72 ms, whereas an explicit transpose
 * followed by a plain matMul takes 13 ms / 23 ms. Dense-layer gradients use exactly those
 * transposed forms, so training spends most of its time there. This wrapper transposes the
 * operand(s) explicitly and then calls wasm's own kernel with transposeA = transposeB = false.
 * Same results (same summation order per output element), just faster.
 */

const BACKEND = 'wasm';
let original: KernelFunc | undefined;
let wrapper: KernelFunc | undefined;

function swapLastTwo(t: TensorInfo): tf.Tensor {
  const tensor = t instanceof tf.Tensor ? t : tf.engine().makeTensorFromTensorInfo(t);
  const rank = tensor.shape.length;
  const perm = [...Array(rank).keys()];
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return tf.transpose(tensor, perm);
}

function makeWrapper(inner: KernelFunc): KernelFunc {
  return (args) => {
    const attrs = args.attrs as unknown as BatchMatMulAttrs;
    if (!attrs.transposeA && !attrs.transposeB) return inner(args);
    const { a, b } = args.inputs;
    if (!a || !b) throw new Error('BatchMatMul: missing input');
    return tf.tidy(() => {
      const a2 = attrs.transposeA ? swapLastTwo(a) : a;
      const b2 = attrs.transposeB ? swapLastTwo(b) : b;
      const plain = { ...attrs, transposeA: false, transposeB: false } as unknown as NamedAttrMap;
      const out = inner({ ...args, inputs: { a: a2, b: b2 }, attrs: plain }) as TensorInfo;
      // Wrap the raw output so tidy keeps it (returned) while disposing the transposed copies.
      return tf.engine().makeTensorFromTensorInfo(out);
    });
  };
}

/** Replaces wasm's BatchMatMul by the wrapper above. Idempotent; call before training. */
export function registerWasmFastTransposedMatMul(): void {
  const existing = tf.getKernel('BatchMatMul', BACKEND);
  if (!existing) throw new Error('BatchMatMul is not registered for wasm (import @tensorflow/tfjs-backend-wasm first)');
  if (existing.kernelFunc === wrapper) return;
  original = existing.kernelFunc;
  wrapper = makeWrapper(original);
  const config: KernelConfig = { ...existing, kernelFunc: wrapper };
  tf.unregisterKernel('BatchMatMul', BACKEND);
  tf.registerKernel(config);
}
