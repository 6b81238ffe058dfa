import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmConvGradients } from './wasm-conv-gradients';

// Silences the cpu backend's "install tfjs-node" hint (PROD only mutes tfjs' log.warn here;
// IS_TEST would instead turn on leak checks that wasm's own fusedMatMul fails).
tf.env().set('PROD', true);

/** Small deterministic pseudo-random values (no Math.random, so failures reproduce). */
function values(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

interface Case {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number;
  pad: 'valid' | 'same';
}

const cases: Case[] = [
  { name: 'valid, 1->3 channels, 3x3', x: [2, 7, 6, 1], filter: [3, 3, 1, 3], strides: 1, pad: 'valid' },
  { name: 'same, 1->3 channels, 3x3', x: [2, 7, 6, 1], filter: [3, 3, 1, 3], strides: 1, pad: 'same' },
  { name: 'valid, 4->5 channels, 3x2', x: [3, 8, 9, 4], filter: [3, 2, 4, 5], strides: 1, pad: 'valid' },
  { name: 'same, 4->5 channels, 2x3 (asymmetric padding)', x: [3, 8, 9, 4], filter: [2, 3, 4, 5], strides: 1, pad: 'same' },
  { name: 'same, 2->2 channels, 5x5', x: [1, 6, 6, 2], filter: [5, 5, 2, 2], strides: 1, pad: 'same' },
  { name: 'valid, stride 2 (fallback path)', x: [2, 9, 8, 3], filter: [3, 3, 3, 4], strides: 2, pad: 'valid' },
  { name: 'same, stride 2 (fallback path)', x: [2, 9, 8, 3], filter: [3, 3, 3, 4], strides: 2, pad: 'same' },
];

/** Gradients of sum(conv2d(x, w) * r) w.r.t. x and w; r makes dy non-uniform. */
function gradients(c: Case): { dx: Float32Array; dw: Float32Array } {
  return tf.tidy(() => {
    const x = tf.tensor4d(values(c.x.reduce((a, b) => a * b), 1), c.x);
    const w = tf.tensor4d(values(c.filter.reduce((a, b) => a * b), 2), c.filter);
    const outShape = tf.conv2d(x, w, c.strides, c.pad).shape;
    const r = tf.tensor(values(outShape.reduce((a, b) => a * b), 3), outShape);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.pad), r)),
    )([x, w]);
    return { dx: dx.dataSync() as Float32Array, dw: dw.dataSync() as Float32Array };
  });
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('wasm conv2d gradients', () => {
  beforeAll(async () => {
    registerWasmConvGradients();
    registerWasmConvGradients(); // idempotent
    expect(await tf.setBackend('wasm')).toBe(true);
  });

  it.each(cases)('match the cpu backend: $name', async (c) => {
    await tf.setBackend('cpu');
    const expected = gradients(c);
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const actual = gradients(c);
    expect(tf.memory().numTensors).toBe(before); // no leaked intermediates
    expect(maxAbsDiff(actual.dw, expected.dw)).toBeLessThan(1e-4);
    expect(maxAbsDiff(actual.dx, expected.dx)).toBeLessThan(1e-4);
  });

  it('reject NCHW with a clear error', () => {
    const dy = tf.zeros([1, 2, 2, 1]) as tf.Tensor4D;
    const x = tf.zeros([1, 2, 4, 4]) as tf.Tensor4D;
    const attrs = { strides: 1, pad: 'valid', dataFormat: 'NCHW', filterShape: [3, 3, 2, 1] };
    expect(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs)).toThrow(/NHWC/);
    tf.dispose([dy, x]);
  });
});
