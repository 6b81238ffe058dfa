import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmFastTransposedMatMul } from './wasm-matmul-transpose';

tf.env().set('PROD', true); // mutes the cpu backend's "install tfjs-node" hint

const a = Array.from({ length: 3 * 5 * 7 }, (_, i) => Math.sin(i));
const b = Array.from({ length: 3 * 7 * 4 }, (_, i) => Math.cos(i));

function products(): number[][] {
  return [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ].map(([ta, tb]) =>
    tf.tidy(() =>
      Array.from(
        tf.matMul(tf.tensor3d(a, ta ? [3, 7, 5] : [3, 5, 7]), tf.tensor3d(b, tb ? [3, 4, 7] : [3, 7, 4]), ta, tb).dataSync(),
      ),
    ),
  );
}

describe('wasm BatchMatMul with transposes', () => {
  it('matches the cpu backend for every transpose combination, without leaking', async () => {
    await tf.setBackend('cpu');
    const expected = products();
    registerWasmFastTransposedMatMul();
    registerWasmFastTransposedMatMul(); // idempotent
    expect(await tf.setBackend('wasm')).toBe(true);
    const before = tf.memory().numTensors;
    const actual = products();
    expect(tf.memory().numTensors).toBe(before);
    actual.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v - expected[i][j])).toBeLessThan(1e-5)));
  });
});
